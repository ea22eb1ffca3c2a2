using ObjectaLabs.Orleans.Organizations;

namespace ObjectaLabs.Orleans.Organizations;

/// <summary>What the organization grain persists. Serialized as JSON by the ADO.NET store.</summary>
[GenerateSerializer, Alias("objectalabs.organization-state")]
public sealed class OrganizationState
{
    [Id(0)] public bool Exists { get; set; }
    [Id(1)] public string Name { get; set; } = "";
    [Id(2)] public string Plan { get; set; } = "";
    [Id(3)] public DateTimeOffset CreatedAt { get; set; }
    [Id(4)] public DateTimeOffset UpdatedAt { get; set; }
    [Id(5)] public Dictionary<Guid, AgentState> Agents { get; set; } = [];
    [Id(6)] public Dictionary<string, ApiKeyState> ApiKeys { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Index of the organization's training jobs (filled as jobs are created).</summary>
    [Id(7)] public HashSet<Guid> JobIds { get; set; } = [];
    /// <summary>Index of the organization's fine-tuned models (filled as jobs finish).</summary>
    [Id(8)] public HashSet<Guid> ModelIds { get; set; } = [];

    /// <summary>A deep copy: a grain method changes the copy and keeps it only once its write succeeded.</summary>
    public OrganizationState Copy() => new()
    {
        Exists = Exists,
        Name = Name,
        Plan = Plan,
        CreatedAt = CreatedAt,
        UpdatedAt = UpdatedAt,
        Agents = Agents.ToDictionary(a => a.Key, a => a.Value.Copy()),
        ApiKeys = new(ApiKeys.ToDictionary(k => k.Key, k => k.Value.Copy(), StringComparer.Ordinal), StringComparer.Ordinal),
        JobIds = [.. JobIds],
        ModelIds = [.. ModelIds],
    };
}

[GenerateSerializer, Alias("objectalabs.agent-state")]
public sealed class AgentState
{
    [Id(0)] public string Name { get; set; } = "";
    [Id(1)] public string? DefaultBaseModel { get; set; }
    [Id(2)] public DateTimeOffset CreatedAt { get; set; }
    [Id(3)] public DateTimeOffset UpdatedAt { get; set; }
    /// <summary>When the agent was archived; archived agents are kept, never erased.</summary>
    [Id(4)] public DateTimeOffset? ArchivedAt { get; set; }

    public AgentState Copy() => (AgentState)MemberwiseClone();
}

[GenerateSerializer, Alias("objectalabs.api-key-state")]
public sealed class ApiKeyState
{
    [Id(0)] public string Name { get; set; } = "";
    [Id(1)] public string Prefix { get; set; } = "";
    [Id(2)] public ApiKeyScope Scope { get; set; }
    /// <summary>SHA-256 of the whole key; the key itself is never stored.</summary>
    [Id(3)] public byte[] Hash { get; set; } = [];
    [Id(4)] public DateTimeOffset CreatedAt { get; set; }
    [Id(5)] public DateTimeOffset? LastUsedAt { get; set; }
    [Id(6)] public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>A copy; the hash array is never changed in place, so it is shared.</summary>
    public ApiKeyState Copy() => (ApiKeyState)MemberwiseClone();
}
