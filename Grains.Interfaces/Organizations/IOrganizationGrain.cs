using ObjectaLabs.Orleans.Plans;

namespace ObjectaLabs.Orleans.Organizations;

/// <summary>
/// One customer organization, keyed by its id: name, plan, agents, API key hashes and the
/// indexes of its jobs and models. Every organization-scoped request is checked against it.
/// </summary>
[Alias("objectalabs.IOrganizationGrain")]
public interface IOrganizationGrain : IGrainWithGuidKey
{
    /// <summary>Creates the organization and issues its first admin key; refused if it exists.</summary>
    [Alias("create")]
    Task<OrganizationCreated> CreateAsync(string name, string plan);

    /// <summary>The organization, or a not-found problem.</summary>
    [Alias("get"), global::Orleans.Concurrency.ReadOnly]
    ValueTask<OrganizationSnapshot> GetAsync();

    /// <summary>Renames the organization.</summary>
    [Alias("rename")]
    Task<OrganizationSnapshot> RenameAsync(string name);

    /// <summary>Moves the organization to another plan, refused if it already uses more than the plan allows.</summary>
    [Alias("change-plan")]
    Task<OrganizationSnapshot> ChangePlanAsync(string plan);

    /// <summary>The plan in force, for limit checks elsewhere.</summary>
    [Alias("plan"), global::Orleans.Concurrency.ReadOnly]
    ValueTask<PlanDefinition> GetPlanAsync();

    /// <summary>Adds an agent.</summary>
    [Alias("add-agent")]
    Task<AgentInfo> AddAgentAsync(string name, string? defaultBaseModel);

    /// <summary>Changes an agent's name or default base model.</summary>
    [Alias("update-agent")]
    Task<AgentInfo> UpdateAgentAsync(Guid agentId, string? name, string? defaultBaseModel);

    /// <summary>Archives an agent: it leaves the listing and takes no new conversations; its conversations and examples stay.</summary>
    [Alias("archive-agent")]
    Task<AgentInfo> ArchiveAgentAsync(Guid agentId);

    /// <summary>The organization's agents, oldest first; archived ones only when asked for.</summary>
    [Alias("list-agents"), global::Orleans.Concurrency.ReadOnly]
    ValueTask<IReadOnlyList<AgentInfo>> ListAgentsAsync(bool includeArchived = false);

    /// <summary>One agent, or a not-found problem.</summary>
    [Alias("agent"), global::Orleans.Concurrency.ReadOnly]
    ValueTask<AgentInfo> GetAgentAsync(Guid agentId);

    /// <summary>Issues a key; its secret is in the answer and nowhere else.</summary>
    [Alias("issue-key")]
    Task<IssuedApiKey> IssueApiKeyAsync(string name, ApiKeyScope scope);

    /// <summary>Every key, revoked ones included, newest first.</summary>
    [Alias("keys"), global::Orleans.Concurrency.ReadOnly]
    ValueTask<IReadOnlyList<ApiKeyInfo>> ListApiKeysAsync();

    /// <summary>Revokes a key; later requests with it are refused.</summary>
    [Alias("revoke-key")]
    Task<ApiKeyInfo> RevokeApiKeyAsync(string keyId);

    /// <summary>
    /// Checks a presented key against the stored hash. Interleaves with everything (it only reads state), so a
    /// flood of wrong secrets never queues a valid key's check behind the organization's other calls.
    /// </summary>
    [Alias("authenticate-key"), global::Orleans.Concurrency.AlwaysInterleave]
    ValueTask<ApiKeyCheck> AuthenticateAsync(string keyId, byte[] keyHash);

    /// <summary>
    /// The active keys' hashes and the active agents' base models, for resolution's snapshot (API processes check keys
    /// from memory). Interleaves with everything: it only reads, and the deployments grain asks at any time.
    /// </summary>
    [Alias("resolution-sources"), global::Orleans.Concurrency.AlwaysInterleave]
    ValueTask<OrganizationSources> GetResolutionSourcesAsync();

    /// <summary>
    /// Last-used times of keys an API process checked from memory, reported in batches; kept in memory and written
    /// with the next usage flush, like the times <see cref="AuthenticateAsync"/> notes.
    /// </summary>
    [Alias("keys-used"), global::Orleans.Concurrency.AlwaysInterleave]
    Task RecordKeyUseAsync(IReadOnlyDictionary<string, DateTimeOffset> usedAt);
}
