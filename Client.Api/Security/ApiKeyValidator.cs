using System.Collections.Concurrent;
using ObjectaLabs.Orleans.Organizations;

namespace ObjectaLabs.Orleans.Api.Security;

/// <summary>Who is calling, once a key has been checked.</summary>
public sealed record Caller(bool IsPlatformAdmin, ApiKeyIdentity? Key);

/// <summary>
/// Checks presented keys: the platform key locally, organization keys against their organization grain.
/// Answers are cached for a short time so that a busy runtime key costs no grain call per request;
/// a revocation made through this process takes effect at once, one made elsewhere within the TTL.
/// </summary>
public sealed class ApiKeyValidator(IGrainFactory grains, PlatformAdminKey platformKey, TimeProvider clock, IConfiguration configuration)
{
    private const int MaxEntries = 100_000;
    private readonly TimeSpan _validTtl = configuration.GetValue("Auth:KeyCacheSeconds", 30) is var s and > 0 ? TimeSpan.FromSeconds(s) : TimeSpan.Zero;
    private readonly TimeSpan _invalidTtl = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, (ApiKeyIdentity? Identity, DateTimeOffset Expires)> _cache = new(StringComparer.Ordinal);

    public async ValueTask<Caller?> ValidateAsync(string presented)
    {
        if (presented.StartsWith("olp_", StringComparison.Ordinal))
        {
            return platformKey.Matches(presented) ? new Caller(true, null) : null;
        }
        if (!ApiKeyFormat.TryParse(presented, out var organizationId, out var keyId))
        {
            return null;
        }
        var hash = ApiKeyFormat.Hash(presented);
        var cacheKey = Convert.ToHexString(hash);
        var now = clock.GetUtcNow();
        if (_cache.TryGetValue(cacheKey, out var cached) && cached.Expires > now)
        {
            return cached.Identity is null ? null : new Caller(false, cached.Identity);
        }
        var identity = await grains.GetGrain<IOrganizationGrain>(organizationId).AuthenticateAsync(keyId, hash);
        if (_cache.Count >= MaxEntries)
        {
            _cache.Clear();
        }
        var ttl = identity is null ? _invalidTtl : _validTtl;
        if (ttl > TimeSpan.Zero)
        {
            _cache[cacheKey] = (identity, now + ttl);
        }
        return identity is null ? null : new Caller(false, identity);
    }

    /// <summary>Drops cached answers for a key that was just revoked.</summary>
    public void Forget(Guid organizationId, string keyId)
    {
        foreach (var entry in _cache)
        {
            if (entry.Value.Identity is { } id && id.OrganizationId == organizationId && id.KeyId == keyId)
            {
                _cache.TryRemove(entry.Key, out _);
            }
        }
    }
}
