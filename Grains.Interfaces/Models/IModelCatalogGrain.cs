namespace ObjectaLabs.Orleans.Models;

/// <summary>The base-model catalog each silo loaded at start-up.</summary>
[Alias("objectalabs.IModelCatalogGrain")]
public interface IModelCatalogGrain : IGrainWithIntegerKey
{
    /// <summary>Every base model, grouped by provider in file order.</summary>
    [Alias("list")]
    ValueTask<IReadOnlyList<ModelDefinition>> ListAsync();
}
