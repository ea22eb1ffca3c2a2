namespace ObjectaLabs.Orleans.Providers;

/// <summary>
/// An Enterprise organization's own provider keys (bring your own key), keyed by organization id.
/// Keys go in and never come out: answers carry only whether a key is set, its last four characters
/// and a fingerprint.
/// </summary>
public interface IProviderKeysGrain : IGrainWithGuidKey
{
    /// <summary>Sets (or replaces) the organization's key for a provider; Enterprise plan only.</summary>
    Task<ProviderKeyInfo> SetAsync(string provider, string apiKey);

    /// <summary>Removes the organization's key for a provider; jobs then use the platform's key, if any.</summary>
    Task<ProviderKeyInfo> RemoveAsync(string provider);

    /// <summary>Each provider that takes a key, whether the organization set one and its last four characters.</summary>
    Task<IReadOnlyList<ProviderKeyInfo>> ListAsync();
}

/// <summary>What an admin may see of an organization's provider key: never the key.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.provider-key-info")]
public sealed record class ProviderKeyInfo(
    string Provider,
    bool Configured,
    string? Last4,
    string? Fingerprint,
    DateTimeOffset? UpdatedAt);
