namespace ObjectaLabs.Orleans.Catalog;

/// <summary>The base-model catalog each silo loaded at start-up.</summary>
[Alias("objectalabs.IBaseModelCatalogGrain")]
public interface IBaseModelCatalogGrain : IGrainWithIntegerKey
{
    /// <summary>Every base model, grouped by provider in file order.</summary>
    [Alias("list")]
    ValueTask<IReadOnlyList<BaseModel>> ListAsync();
}
