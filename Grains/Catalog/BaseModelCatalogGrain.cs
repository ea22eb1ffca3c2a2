using Orleans.Concurrency;

namespace ObjectaLabs.Orleans.Catalog;

/// <summary>Serves the silo's model catalog; a stateless worker, so every silo answers locally.</summary>
[StatelessWorker]
public sealed class BaseModelCatalogGrain(BaseModelCatalog catalog) : Grain, IBaseModelCatalogGrain
{
    public ValueTask<IReadOnlyList<BaseModel>> ListAsync() => ValueTask.FromResult(catalog.All);
}
