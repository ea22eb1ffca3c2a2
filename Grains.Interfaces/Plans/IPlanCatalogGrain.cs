namespace ObjectaLabs.Orleans.Plans;

/// <summary>The plans this deployment offers, served from each silo's configuration.</summary>
[Alias("objectalabs.IPlanCatalogGrain")]
public interface IPlanCatalogGrain : IGrainWithIntegerKey
{
    /// <summary>Every plan, in the order the configuration lists them.</summary>
    [Alias("list")]
    ValueTask<IReadOnlyList<PlanDefinition>> ListAsync();
}
