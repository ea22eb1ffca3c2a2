using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using ObjectaLabs.Orleans.Api.Security;
using ObjectaLabs.Orleans.Deployment;
using ObjectaLabs.Orleans.Organizations;

namespace ObjectaLabs.Orleans.Api.Resolution;

/// <summary>
/// This API process's in-memory snapshots of organizations' deployments, models and active keys, for resolution and key
/// checks with no grain call and no database read per request. A cold organization costs one grain call (subscribe,
/// which answers the snapshot); from then on the organization's deployments grain pushes every change to this process (a
/// grain observer), and <see cref="ResolutionRenewal"/> renews the subscriptions every 20 s, resyncing from the answer
/// when an update was missed (the answer's version is newer) or when the cluster connection was lost and the observer
/// with it. An organization not used for <see cref="IdleLifetime"/> is dropped and unsubscribed.
/// </summary>
public sealed class ResolutionCache : IResolutionObserver
{
    /// <summary>How long an organization is held with no request for it.</summary>
    public static readonly TimeSpan IdleLifetime = TimeSpan.FromMinutes(10);

    private readonly IGrainFactory _grains;
    private readonly ILogger<ResolutionCache> _logger;
    private readonly ConcurrentDictionary<Guid, HeldOrganization> _held = new();
    private readonly ConcurrentDictionary<Guid, Lazy<Task<HeldOrganization>>> _loading = new();
    private readonly Lazy<IResolutionObserver> _reference;

    public ResolutionCache(IGrainFactory grains, ILogger<ResolutionCache> logger)
    {
        _grains = grains;
        _logger = logger;
        _reference = new Lazy<IResolutionObserver>(() => grains.CreateObjectReference<IResolutionObserver>(this));
    }

    /// <summary>The organization's snapshot: from memory, or (cold) from one subscribe call.</summary>
    public ValueTask<ResolutionSnapshot> GetAsync(Guid organizationId)
    {
        if (_held.TryGetValue(organizationId, out var held))
        {
            held.Touch();
            return ValueTask.FromResult(held.Snapshot);
        }
        return new ValueTask<ResolutionSnapshot>(LoadSnapshotAsync(organizationId));
    }

    /// <summary>The organization when this process holds it (a key check from memory), with no grain call.</summary>
    public bool TryGetHeld(Guid organizationId, [NotNullWhen(true)] out HeldOrganization? held)
    {
        if (_held.TryGetValue(organizationId, out held))
        {
            held.Touch();
            return true;
        }
        return false;
    }

    /// <summary>
    /// Starts holding an organization a valid key was just checked for (one subscribe, in the background), so its later
    /// keys are checked from memory and a revocation anywhere reaches this process by push.
    /// </summary>
    public void HoldInBackground(Guid organizationId)
    {
        if (_held.ContainsKey(organizationId) || _loading.ContainsKey(organizationId))
        {
            return;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                await LoadAsync(organizationId);
            }
            catch (Exception e)
            {
                // Keys go on being checked against the organization grain; the next valid check tries again.
                _logger.LogDebug(e, "Organization {OrganizationId}: not held for key checks", organizationId);
            }
        });
    }

    private async Task<ResolutionSnapshot> LoadSnapshotAsync(Guid organizationId) => (await LoadAsync(organizationId)).Snapshot;

    private async Task<HeldOrganization> LoadAsync(Guid organizationId)
    {
        // One subscribe per cold organization however many requests arrive at once.
        var loading = _loading.GetOrAdd(organizationId, id => new Lazy<Task<HeldOrganization>>(() => SubscribeAsync(id)));
        try
        {
            return await loading.Value;
        }
        finally
        {
            _loading.TryRemove(new KeyValuePair<Guid, Lazy<Task<HeldOrganization>>>(organizationId, loading));
        }
    }

    /// <summary>Subscribes (or renews) and keeps the answer when it is not older than what is held.</summary>
    public async Task<HeldOrganization> SubscribeAsync(Guid organizationId)
    {
        var snapshot = await _grains.GetGrain<IDeploymentsGrain>(organizationId).SubscribeAsync(_reference.Value);
        return Apply(snapshot);
    }

    /// <summary>
    /// After a change made through this process: reads the new snapshot now when the organization is held, so this
    /// process answers its own writes at once (the push reaches the others within the second).
    /// </summary>
    public async Task RefreshIfHeldAsync(Guid organizationId)
    {
        if (_held.ContainsKey(organizationId))
        {
            await SubscribeAsync(organizationId);
        }
    }

    /// <summary>
    /// A key revoked through this process stops working here at once, before the push (which no longer lists it) arrives.
    /// </summary>
    public void Revoked(Guid organizationId, string keyId)
    {
        while (_held.TryGetValue(organizationId, out var current) && current.Lists(keyId))
        {
            var next = current.Without(keyId);
            if (_held.TryUpdate(organizationId, next, current))
            {
                ReportDroppedInBackground(next);
                return;
            }
        }
    }

    public Task ChangedAsync(ResolutionSnapshot snapshot)
    {
        // A push for an organization dropped meanwhile is not held again: only requests bring an organization in.
        if (_held.ContainsKey(snapshot.OrganizationId))
        {
            Apply(snapshot);
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// One renewal round: renews every organization used within <see cref="IdleLifetime"/>, drops (and unsubscribes) the
    /// others, and reports the keys checked from memory since the last round to their organizations (their last-used time).
    /// </summary>
    public async Task RenewAsync(CancellationToken cancellationToken)
    {
        foreach (var (organizationId, held) in _held.ToArray())
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                await ReportKeyUseAsync(held);
                if (held.IdleFor() > IdleLifetime)
                {
                    _held.TryRemove(new KeyValuePair<Guid, HeldOrganization>(organizationId, held));
                    await _grains.GetGrain<IDeploymentsGrain>(organizationId).UnsubscribeAsync(_reference.Value);
                    continue;
                }
                await SubscribeAsync(organizationId);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The snapshot held keeps answering; the next renewal tries again.
                _logger.LogWarning(e, "Organization {OrganizationId}: resolution subscription not renewed", organizationId);
            }
        }
    }

    /// <summary>Reports the organization's keys checked from memory since the last report, when it is held.</summary>
    public Task ReportKeyUseAsync(Guid organizationId) =>
        _held.TryGetValue(organizationId, out var held) ? ReportKeyUseAsync(held) : Task.CompletedTask;

    private async Task ReportKeyUseAsync(HeldOrganization held)
    {
        var used = held.TakeKeyUse();
        if (used.Count > 0)
        {
            await _grains.GetGrain<IOrganizationGrain>(held.Snapshot.OrganizationId).RecordKeyUseAsync(used);
        }
    }

    /// <summary>Use of keys a new snapshot no longer lists (revoked elsewhere) is still reported: last used before revocation.</summary>
    private void ReportDroppedInBackground(HeldOrganization next)
    {
        if (next.DroppedKeyUse is not { Count: > 0 } dropped)
        {
            return;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                await _grains.GetGrain<IOrganizationGrain>(next.Snapshot.OrganizationId).RecordKeyUseAsync(dropped);
            }
            catch (Exception e)
            {
                _logger.LogDebug(e, "Organization {OrganizationId}: use of revoked keys not reported", next.Snapshot.OrganizationId);
            }
        });
    }

    private HeldOrganization Apply(ResolutionSnapshot snapshot)
    {
        while (true)
        {
            if (!_held.TryGetValue(snapshot.OrganizationId, out var current))
            {
                var added = new HeldOrganization(snapshot, previous: null);
                if (_held.TryAdd(snapshot.OrganizationId, added))
                {
                    _logger.LogDebug("Organization {OrganizationId}: resolution snapshot v{Version}", snapshot.OrganizationId, snapshot.Version);
                    return added;
                }
                continue;
            }
            if (snapshot.Version < current.Snapshot.Version)
            {
                return current;
            }
            var next = new HeldOrganization(snapshot, current);
            if (_held.TryUpdate(snapshot.OrganizationId, next, current))
            {
                ReportDroppedInBackground(next);
                _logger.LogDebug("Organization {OrganizationId}: resolution snapshot v{Version}", snapshot.OrganizationId, snapshot.Version);
                return next;
            }
        }
    }
}

/// <summary>
/// One organization as this process holds it: its snapshot, and its active keys indexed by key id for checks from memory.
/// Keys checked here are remembered as used until the next renewal reports them.
/// </summary>
public sealed class HeldOrganization
{
    private readonly FrozenDictionary<string, HeldKey> _keys;
    private long _lastAccess;

    public HeldOrganization(ResolutionSnapshot snapshot, HeldOrganization? previous)
    {
        Snapshot = snapshot;
        _keys = snapshot.Keys.ToFrozenDictionary(
            k => k.KeyId, k => new HeldKey(new Caller(false, new ApiKeyIdentity(snapshot.OrganizationId, k.KeyId, k.Scope)), k.Hash), StringComparer.Ordinal);
        _lastAccess = previous?._lastAccess ?? Environment.TickCount64;
        if (previous is not null)
        {
            foreach (var (keyId, key) in previous._keys)
            {
                if (key.UsedAt is not { } usedAt)
                {
                    continue;
                }
                if (_keys.TryGetValue(keyId, out var kept))
                {
                    kept.NoteUse(usedAt);
                }
                else
                {
                    (DroppedKeyUse ??= new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal))[keyId] = usedAt;
                }
            }
        }
    }

    public ResolutionSnapshot Snapshot { get; }

    /// <summary>Use not yet reported of keys the previous hold listed and this one does not (revoked meanwhile).</summary>
    internal Dictionary<string, DateTimeOffset>? DroppedKeyUse { get; }

    public bool Lists(string keyId) => _keys.ContainsKey(keyId);

    internal HeldOrganization Without(string keyId) =>
        new(Snapshot with { Keys = [.. Snapshot.Keys.Where(k => k.KeyId != keyId)] }, this);

    /// <summary>
    /// Checks a presented key from memory: its caller when the key id is active here and the secret's hash matches;
    /// null with <paramref name="listed"/> true when the id is active but the secret is wrong; null with
    /// <paramref name="listed"/> false when the id is not active here (revoked, forged, or issued a moment ago elsewhere).
    /// </summary>
    public Caller? Check(string presented, string keyId, DateTimeOffset now, out bool listed)
    {
        listed = _keys.TryGetValue(keyId, out var key);
        if (!listed)
        {
            return null;
        }
        Span<byte> hash = stackalloc byte[32];
        ApiKeyFormat.Hash(presented, hash);
        if (!CryptographicOperations.FixedTimeEquals(hash, key!.Hash))
        {
            return null;
        }
        key.NoteUse(now);
        return key.Caller;
    }

    internal void Touch()
    {
        var now = Environment.TickCount64;
        if (now - Volatile.Read(ref _lastAccess) > 1000)
        {
            Volatile.Write(ref _lastAccess, now);
        }
    }

    internal TimeSpan IdleFor() => TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref _lastAccess));

    /// <summary>The keys used since the last call, with their first use since then; clears them.</summary>
    internal Dictionary<string, DateTimeOffset> TakeKeyUse()
    {
        var used = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        foreach (var (keyId, key) in _keys)
        {
            if (key.TakeUse() is { } at)
            {
                used[keyId] = at;
            }
        }
        return used;
    }

    private sealed class HeldKey(Caller caller, byte[] hash)
    {
        private long _usedAtTicks;

        public Caller Caller { get; } = caller;

        public byte[] Hash { get; } = hash;

        public DateTimeOffset? UsedAt => Volatile.Read(ref _usedAtTicks) is var ticks and not 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

        public void NoteUse(DateTimeOffset at)
        {
            if (Volatile.Read(ref _usedAtTicks) == 0)
            {
                Interlocked.CompareExchange(ref _usedAtTicks, at.UtcTicks, 0);
            }
        }

        public DateTimeOffset? TakeUse() => Interlocked.Exchange(ref _usedAtTicks, 0) is var ticks and not 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;
    }
}

/// <summary>Renews every held organization's subscription every 20 s (subscriptions lapse after a minute) and resyncs from the answers.</summary>
public sealed class ResolutionRenewal(ResolutionCache cache) : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(20);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await cache.RenewAsync(stoppingToken);
        }
    }
}
