namespace ObjectaLabs.Orleans.Organizations;

/// <summary>The platform-wide list of organizations, read from the relational table.</summary>
[Alias("objectalabs.IOrganizationDirectoryGrain")]
public interface IOrganizationDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>Organizations created after the cursor, oldest first.</summary>
    [Alias("list")]
    Task<IReadOnlyList<OrganizationSummary>> ListAsync(DateTimeOffset? createdAfter, Guid? afterId, int limit);
}
