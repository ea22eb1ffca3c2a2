using Orleans.Concurrency;

namespace ObjectaLabs.Orleans.Organizations;

/// <summary>Lists organizations from the relational table; stateless, so every silo serves it.</summary>
[StatelessWorker]
public sealed class OrganizationDirectoryGrain(OrganizationRows rows) : Grain, IOrganizationDirectoryGrain
{
    public Task<IReadOnlyList<OrganizationSummary>> ListAsync(DateTimeOffset? createdAfter, Guid? afterId, int limit) =>
        rows.ListAsync(createdAfter, afterId, Math.Clamp(limit, 1, 200));
}
