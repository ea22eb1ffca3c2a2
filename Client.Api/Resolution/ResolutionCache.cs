using System.Collections.Concurrent;
using ObjectaLabs.Orleans.Deployment;

namespace ObjectaLabs.Orleans.Api.Resolution;

/// <summary>
/// This API process's in-memory snapshots of organizations' deployments and models, for resolution with no grain call
/// and no database read per request. A cold organization costs one grain call (subscribe, which answers the snapshot);
/// from then on the organization's deployments grain pushes every change to this process (a grain observer), and
/// <see cref="ResolutionRenewal"/> renews the subscriptions every 20 s, resyncing from the answer when an update was
/// missed (the answer's version is newer) or when the cluster connection was lost and the observer with it.
/// </summary>
public sealed class ResolutionCache : IResolutionObserver
{
    private readonly IGrainFactory _grains;
    private readonly ILogger<ResolutionCache> _logger;
    private readonly ConcurrentDictionary<Guid, ResolutionSnapshot> _snapshots = new();
    private readonly ConcurrentDictionary<Guid, Lazy<Task<ResolutionSnapshot>>> _loading = new();
    private readonly Lazy<IResolutionObserver> _reference;

    public ResolutionCache(IGrainFactory grains, ILogger<ResolutionCache> logger)
    {
        _grains = grains;
        _logger = logger;
        _reference = new Lazy<IResolutionObserver>(() => grains.CreateObjectReference<IResolutionObserver>(this));
    }

    /// <summary>Organizations held, for renewal.</summary>
    public IReadOnlyCollection<Guid> Organizations => [.. _snapshots.Keys];

    /// <summary>The organization's snapshot: from memory, or (cold) from one subscribe call.</summary>
    public ValueTask<ResolutionSnapshot> GetAsync(Guid organizationId) =>
        _snapshots.TryGetValue(organizationId, out var snapshot) ? ValueTask.FromResult(snapshot) : new ValueTask<ResolutionSnapshot>(LoadAsync(organizationId));

    private async Task<ResolutionSnapshot> LoadAsync(Guid organizationId)
    {
        // One subscribe per cold organization however many requests arrive at once.
        var loading = _loading.GetOrAdd(organizationId, id => new Lazy<Task<ResolutionSnapshot>>(() => SubscribeAsync(id)));
        try
        {
            return await loading.Value;
        }
        finally
        {
            _loading.TryRemove(new KeyValuePair<Guid, Lazy<Task<ResolutionSnapshot>>>(organizationId, loading));
        }
    }

    /// <summary>Subscribes (or renews) and keeps the answer when it is not older than what is held.</summary>
    public async Task<ResolutionSnapshot> SubscribeAsync(Guid organizationId)
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
        if (_snapshots.ContainsKey(organizationId))
        {
            await SubscribeAsync(organizationId);
        }
    }

    public Task ChangedAsync(ResolutionSnapshot snapshot)
    {
        Apply(snapshot);
        return Task.CompletedTask;
    }

    private ResolutionSnapshot Apply(ResolutionSnapshot snapshot)
    {
        var kept = _snapshots.AddOrUpdate(snapshot.OrganizationId, snapshot, (_, held) => snapshot.Version >= held.Version ? snapshot : held);
        if (ReferenceEquals(kept, snapshot))
        {
            _logger.LogDebug("Organization {OrganizationId}: resolution snapshot v{Version}", snapshot.OrganizationId, snapshot.Version);
        }
        return kept;
    }
}

/// <summary>Renews every held organization's subscription every 20 s (subscriptions lapse after a minute) and resyncs from the answers.</summary>
public sealed class ResolutionRenewal(ResolutionCache cache, ILogger<ResolutionRenewal> logger) : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(20);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var organization in cache.Organizations)
            {
                try
                {
                    await cache.SubscribeAsync(organization);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The snapshot held keeps answering; the next renewal tries again.
                    logger.LogWarning(e, "Organization {OrganizationId}: resolution subscription not renewed", organization);
                }
            }
        }
    }
}
