using System.ComponentModel.DataAnnotations;

namespace ObjectaLabs.Orleans.Api.Security;

/// <summary>Section <c>Auth</c>: how long and how many key-check answers the API keeps in memory.</summary>
public sealed class AuthSettings
{
    public const string Section = "Auth";

    /// <summary>How long a checked valid key is trusted before its organization grain is asked again.</summary>
    [Range(0, 3600)]
    public int KeyCacheSeconds { get; set; } = 30;

    /// <summary>How long an unused valid key stays "known" (answered without the per-address limiter).</summary>
    [Range(1, 24 * 60)]
    public int KnownKeyMinutes { get; set; } = 60;

    /// <summary>How long a refused key, and an organization id that does not exist, are refused from memory.</summary>
    [Range(0, 3600)]
    public int RefusalSeconds { get; set; } = 60;

    /// <summary>At most this many valid keys are kept; the least recently used go first.</summary>
    [Range(1, 10_000_000)]
    public int ValidKeyCacheSize { get; set; } = 100_000;

    /// <summary>At most this many refused keys, and as many unknown organization ids, are kept (each its own cache).</summary>
    [Range(1, 10_000_000)]
    public int RefusalCacheSize { get; set; } = 100_000;

    public TimeSpan KeyCacheTtl => TimeSpan.FromSeconds(KeyCacheSeconds);
    public TimeSpan KnownKeyLifetime => TimeSpan.FromMinutes(KnownKeyMinutes);
    public TimeSpan RefusalTtl => TimeSpan.FromSeconds(Math.Max(1, RefusalSeconds));
}
