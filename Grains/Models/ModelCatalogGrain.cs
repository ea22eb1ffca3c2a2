using Orleans.Concurrency;

namespace ObjectaLabs.Orleans.Models;

/// <summary>Serves the silo's model catalog; a stateless worker, so every silo answers locally.</summary>
[StatelessWorker]
public sealed class ModelCatalogGrain(ModelCatalog catalog) : Grain, IModelCatalogGrain
{
    public ValueTask<IReadOnlyList<ModelDefinition>> ListAsync() => ValueTask.FromResult(catalog.All);
}
