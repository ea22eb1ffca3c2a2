namespace ObjectaLabs.Orleans.Organizations;

/// <summary>What a key may do. <c>Admin</c> manages the organization; <c>Runtime</c> is what the agent runtime uses.</summary>
public enum ApiKeyScope
{
    Admin = 0,
    Runtime = 1,
}

/// <summary>A key as it can be listed later: never the secret, only its public prefix.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.api-key-info")]
public sealed record class ApiKeyInfo(
    string Id,
    string Name,
    string Prefix,
    ApiKeyScope Scope,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RevokedAt);

/// <summary>A newly issued key: the only time its secret is ever returned.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.issued-api-key")]
public sealed record class IssuedApiKey(ApiKeyInfo Info, string Key);

/// <summary>Who a presented key belongs to, when it is valid.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.api-key-identity")]
public sealed record class ApiKeyIdentity(Guid OrganizationId, string KeyId, ApiKeyScope Scope);

/// <summary>The answer to a key check: who the key belongs to, or why it was refused.</summary>
public enum ApiKeyCheckOutcome
{
    Valid = 0,
    /// <summary>The key is unknown, revoked or its secret is wrong.</summary>
    Rejected = 1,
    /// <summary>No organization has this id: every key naming it is refused.</summary>
    UnknownOrganization = 2,
}

/// <summary>A key check's result; <see cref="Identity"/> is set exactly when the outcome is valid.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.api-key-check")]
public sealed record class ApiKeyCheck(ApiKeyCheckOutcome Outcome, ApiKeyIdentity? Identity);

/// <summary>
/// An active key as API processes hold it to check keys from memory: its id, scope and the SHA-256 of its secret
/// (never the secret). Revoked keys are not listed.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.active-key")]
public sealed record class ActiveKey(string KeyId, ApiKeyScope Scope, byte[] Hash);

/// <summary>
/// What resolution needs from the organization grain: its active keys, and its active agents with their default base
/// model (what an agent with no deployment resolves to, and every deployment's fallback unless set).
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.resolution-sources")]
public sealed record class OrganizationSources(IReadOnlyList<ActiveKey> Keys, IReadOnlyDictionary<Guid, string?> AgentBaseModels)
{
    public static OrganizationSources None { get; } = new([], new Dictionary<Guid, string?>());

    /// <summary>True when both hold the same keys and agents.</summary>
    public bool SameAs(OrganizationSources other) =>
        Keys.Count == other.Keys.Count
        && Keys.Zip(other.Keys).All(p => p.First.KeyId == p.Second.KeyId && p.First.Scope == p.Second.Scope && p.First.Hash.AsSpan().SequenceEqual(p.Second.Hash))
        && AgentBaseModels.Count == other.AgentBaseModels.Count
        && AgentBaseModels.All(a => other.AgentBaseModels.TryGetValue(a.Key, out var model) && model == a.Value);
}
