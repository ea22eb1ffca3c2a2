using System.Net;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using ObjectaLabs.Orleans.Api.Hosting;
using ObjectaLabs.Orleans.Api.Resolution;
using ObjectaLabs.Orleans.Organizations;

namespace ObjectaLabs.Orleans.Api.Security;

/// <summary>
/// Who is calling, once a key has been checked. Built once per key and reused by every request that presents it
/// (with its principal and rate-limit partitions), so the hot path allocates none of them.
/// </summary>
public sealed class Caller(bool isPlatformAdmin, ApiKeyIdentity? key)
{
    public static readonly Caller PlatformAdmin = new(true, null);

    private ClaimsPrincipal? _principal;

    public bool IsPlatformAdmin { get; } = isPlatformAdmin;

    public ApiKeyIdentity? Key { get; } = key;

    /// <summary>The principal requests with this key run as (shared, never changed).</summary>
    public ClaimsPrincipal Principal => _principal ??= new ClaimsPrincipal(new CallerIdentity(this));

    /// <summary>The key's rate-limit partitions: resolution, resolution with few-shot selection, and everything else.</summary>
    public string ResolvePartition { get; } = $"resolve:{key?.KeyId ?? "platform"}";

    public string SelectPartition { get; } = $"select:{key?.KeyId ?? "platform"}";

    public string KeyPartition { get; } = key is null ? "platform" : $"key:{key.KeyId}";
}

/// <summary>The identity of a checked key: its claims for the framework, and the typed <see cref="Caller"/> for our code.</summary>
public sealed class CallerIdentity : ClaimsIdentity
{
    public CallerIdentity(Caller caller) : base(ClaimsOf(caller), ApiKeyAuthenticationHandler.SchemeName) => Caller = caller;

    public Caller Caller { get; }

    private static IEnumerable<Claim> ClaimsOf(Caller caller)
    {
        if (caller.IsPlatformAdmin)
        {
            yield return new Claim(ClaimTypes.Role, ApiKeyAuthenticationHandler.PlatformAdminRole);
            yield return new Claim(ApiKeyAuthenticationHandler.KeyIdClaim, "platform");
            yield break;
        }
        var key = caller.Key!;
        yield return new Claim(ApiKeyAuthenticationHandler.OrganizationClaim, key.OrganizationId.ToString());
        yield return new Claim(ApiKeyAuthenticationHandler.ScopeClaim, key.Scope.ToString());
        yield return new Claim(ApiKeyAuthenticationHandler.KeyIdClaim, key.KeyId);
    }
}

/// <summary>A key check's answer: the caller, a refusal, or "too many unverified keys from this address".</summary>
public readonly record struct KeyValidation(Caller? Caller, TimeSpan? RetryAfter)
{
    public static readonly KeyValidation Refused = new(null, null);

    public bool IsThrottled => RetryAfter is not null;
}

/// <summary>
/// Checks presented keys: the platform key locally, organization keys from memory when this process holds the
/// organization (<see cref="ResolutionCache"/>: its active keys are pushed on every issue and revocation, so a revoked key
/// stops working in every API process within the second), otherwise against their organization grain.
/// <list type="bullet">
/// <item>A valid key checked against the grain makes this process hold its organization (one subscribe).</item>
/// <item>A key known to be valid answers from memory; its check is repeated every <c>Auth:KeyCacheSeconds</c>
/// (a revocation made through this process takes effect at once, one made elsewhere within that time), and
/// it is never slowed by the limiter below.</item>
/// <item>Any other key is limited per client address (IPv6 per /64) <b>before</b> any grain call, so a flood of
/// forged keys costs at most the limiter's allowance in grain calls and activations.</item>
/// <item>Refusals are remembered for a short time: per whole key, and "no such organization" per organization
/// id, so changing one character of a forged key does not reach a grain again.</item>
/// <item>Each of the three caches is bounded and evicts (never clears) on its own; refusals live in their own
/// caches, so they can never push a valid key out.</item>
/// </list>
/// </summary>
public sealed class ApiKeyValidator : IDisposable
{
    private readonly IGrainFactory _grains;
    private readonly ResolutionCache _resolution;
    private readonly PlatformAdminKey _platformKey;
    private readonly TimeProvider _clock;
    private readonly AuthSettings _settings;
    private readonly MemoryCache _valid;
    private readonly MemoryCache _rejected;
    private readonly MemoryCache _unknownOrganizations;
    private readonly MemoryCache _revoked;
    private readonly PartitionedRateLimiter<string> _unverifiedPerAddress;

    public ApiKeyValidator(
        IGrainFactory grains, ResolutionCache resolution, PlatformAdminKey platformKey, TimeProvider clock, IOptions<AuthSettings> settings, IOptions<RateLimitSettings> limits)
    {
        _grains = grains;
        _resolution = resolution;
        _platformKey = platformKey;
        _clock = clock;
        _settings = settings.Value;
        _valid = NewCache(_settings.ValidKeyCacheSize);
        _rejected = NewCache(_settings.RefusalCacheSize);
        _unknownOrganizations = NewCache(_settings.RefusalCacheSize);
        _revoked = NewCache(_settings.ValidKeyCacheSize);
        var bucket = limits.Value.UnverifiedKeys;
        _unverifiedPerAddress = PartitionedRateLimiter.Create<string, string>(address =>
            RateLimitPartition.GetTokenBucketLimiter(address, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = Math.Max(1, bucket.Burst),
                TokensPerPeriod = Math.Max(1, bucket.PermitsPerSecond),
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
    }

    /// <summary>Checks <paramref name="presented"/> sent from <paramref name="address"/>.</summary>
    public async ValueTask<KeyValidation> ValidateAsync(string presented, IPAddress? address)
    {
        if (presented.StartsWith("olp_", StringComparison.Ordinal))
        {
            return _platformKey.Matches(presented) ? new(Caller.PlatformAdmin, null) : KeyValidation.Refused;
        }
        if (!ApiKeyFormat.TryParse(presented, out var organizationId, out var keyId))
        {
            return KeyValidation.Refused;
        }
        var now = _clock.GetUtcNow();
        // An organization this process holds (its snapshot is pushed on every key change) is checked from memory.
        var listed = true;
        if (_resolution.TryGetHeld(organizationId, out var held))
        {
            if (held.Check(presented, keyId, now, out listed) is { } heldCaller)
            {
                return new(heldCaller, null);
            }
            if (listed)
            {
                return KeyValidation.Refused;
            }
            // Not active here: revoked (the grain says so), forged (limited below), or issued a moment ago elsewhere.
        }
        var hash = ApiKeyFormat.Hash(presented);
        var cacheKey = Convert.ToHexString(hash);
        var known = _valid.Get<KnownKey>(cacheKey);
        if (known is not null && _revoked.TryGetValue(RevokedKey(organizationId, keyId), out _))
        {
            _valid.Remove(cacheKey);
            known = null;
        }
        if (known is not null && listed && known.CheckedAt + _settings.KeyCacheTtl > now)
        {
            return new(known.Caller, null);
        }
        if (known is null)
        {
            if (_rejected.TryGetValue(cacheKey, out _) || _unknownOrganizations.TryGetValue(organizationId, out _))
            {
                return KeyValidation.Refused;
            }
            using var lease = _unverifiedPerAddress.AttemptAcquire(Partition(address));
            if (!lease.IsAcquired)
            {
                return new(null, lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1));
            }
        }

        // Either an unverified key that got a permit, or a known key due for its periodic re-check.
        var check = await _grains.GetGrain<IOrganizationGrain>(organizationId).AuthenticateAsync(keyId, hash);
        switch (check.Outcome)
        {
            case ApiKeyCheckOutcome.Valid when check.Identity is { } identity:
                var caller = known?.Identity == identity ? known.Caller : new Caller(false, identity);
                RememberWhileUsed(_valid, cacheKey, new KnownKey(caller, now), _settings.KnownKeyLifetime);
                _resolution.HoldInBackground(organizationId);
                return new(caller, null);
            case ApiKeyCheckOutcome.UnknownOrganization:
                _valid.Remove(cacheKey);
                Remember(_unknownOrganizations, organizationId, true, _settings.RefusalTtl);
                return KeyValidation.Refused;
            default:
                _valid.Remove(cacheKey);
                Remember(_rejected, cacheKey, true, _settings.RefusalTtl);
                return KeyValidation.Refused;
        }
    }

    /// <summary>
    /// The caller of an organization key decided from memory alone: its organization is held and lists the key with this
    /// secret. False for anything else (not a key of ours, an organization not held, a key not listed or a wrong secret),
    /// which <see cref="ValidateAsync"/> then decides and answers.
    /// </summary>
    public bool TryCheckHeld(string presented, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Caller? caller)
    {
        caller = null;
        return ApiKeyFormat.TryParse(presented, out var organizationId, out var keyId)
            && _resolution.TryGetHeld(organizationId, out var held)
            && (caller = held.Check(presented, keyId, _clock.GetUtcNow(), out _)) is not null;
    }

    /// <summary>
    /// A key this process just issued is valid by construction: known at once, so its first use is never limited.
    /// It is marked as due for its check, so that first use still reaches the grain and records "last used".
    /// </summary>
    public void Issued(IssuedApiKey issued)
    {
        if (ApiKeyFormat.TryParse(issued.Key, out var organizationId, out var keyId))
        {
            RememberWhileUsed(_valid, Convert.ToHexString(ApiKeyFormat.Hash(issued.Key)),
                new KnownKey(new Caller(false, new ApiKeyIdentity(organizationId, keyId, issued.Info.Scope)), DateTimeOffset.MinValue), _settings.KnownKeyLifetime);
        }
    }

    /// <summary>Drops cached answers for a key that was just revoked.</summary>
    public void Forget(Guid organizationId, string keyId)
    {
        Remember(_revoked, RevokedKey(organizationId, keyId), true, _settings.KnownKeyLifetime);
        _resolution.Revoked(organizationId, keyId);
    }

    public void Dispose()
    {
        _valid.Dispose();
        _rejected.Dispose();
        _unknownOrganizations.Dispose();
        _revoked.Dispose();
        _unverifiedPerAddress.Dispose();
    }

    /// <summary>The limiter's partition: the address, or its /64 network for IPv6 (one host's usual share).</summary>
    public static string Partition(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            Array.Clear(bytes, 8, 8);
            return new IPAddress(bytes).ToString() + "/64";
        }
        return address.ToString();
    }

    private static string RevokedKey(Guid organizationId, string keyId) => $"{organizationId:N}:{keyId}";

    private static MemoryCache NewCache(int size) => new(new MemoryCacheOptions
    {
        SizeLimit = size,
        CompactionPercentage = 0.1,
        ExpirationScanFrequency = TimeSpan.FromSeconds(30),
    });

    private static void Remember<T>(MemoryCache cache, object key, T value, TimeSpan lifetime)
    {
        using var entry = cache.CreateEntry(key);
        entry.Value = value;
        entry.Size = 1;
        entry.AbsoluteExpirationRelativeToNow = lifetime;
    }

    private static void RememberWhileUsed<T>(MemoryCache cache, object key, T value, TimeSpan idleLifetime)
    {
        using var entry = cache.CreateEntry(key);
        entry.Value = value;
        entry.Size = 1;
        entry.SlidingExpiration = idleLifetime;
    }

    private sealed record KnownKey(Caller Caller, DateTimeOffset CheckedAt)
    {
        public ApiKeyIdentity Identity => Caller.Key!;
    }
}
