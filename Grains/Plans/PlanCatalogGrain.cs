using Orleans.Concurrency;

namespace ObjectaLabs.Orleans.Plans;

/// <summary>Serves the silo's plan catalog; a stateless worker, so every silo answers locally.</summary>
[StatelessWorker]
public sealed class PlanCatalogGrain(PlanCatalog catalog) : Grain, IPlanCatalogGrain
{
    public ValueTask<IReadOnlyList<PlanDefinition>> ListAsync() => ValueTask.FromResult(catalog.All);
}
