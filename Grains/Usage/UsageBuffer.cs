using Microsoft.Extensions.Options;
using ObjectaLabs.Orleans.Deployment;
using ObjectaLabs.Orleans.Models;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Usage;

/// <summary>
/// A silo's usage on its way to the model grains: batches received by the ingest grains are added up here per
/// (organization, key), and every <see cref="UsageOptions.ForwardInterval"/> one forward sends each model grain its totals
/// (one forward at a time; what a grain refused to take is kept for the next). When the silo stops, the last forward
/// runs before any grain is deactivated, and batches arriving after it are refused (the runtime retries them elsewhere),
/// so a graceful stop loses nothing.
/// </summary>
public sealed partial class UsageBuffer(IGrainFactory grains, IOptions<UsageOptions> options, ILogger<UsageBuffer> logger)
    : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Dictionary<(Guid Organization, UsageKey Key), Pending> _pending = [];
    private bool _closed;
    private int _inFlight;
    private Task? _loop;

    /// <summary>
    /// Enters an ingest that will take batch ids and add their usage: refused (503 with Retry-After at the API) once the
    /// silo is stopping, and the last forward waits for every ingest entered before, so no taken id goes uncounted.
    /// </summary>
    public IDisposable Enter()
    {
        lock (_lock)
        {
            if (_closed)
            {
                // The batch was not counted, and a retry is counted once.
                throw new SiloUnavailableException("This silo is stopping and takes no more usage; send the batch again.");
            }
            _inFlight++;
        }
        return new Ingest(this);
    }

    private sealed class Ingest(UsageBuffer buffer) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                lock (buffer._lock)
                {
                    buffer._inFlight--;
                }
            }
        }
    }

    /// <summary>Adds a batch's entries (within <see cref="Enter"/>).</summary>
    public void Add(Guid organizationId, IReadOnlyList<UsageEntry> entries)
    {
        lock (_lock)
        {
            foreach (var entry in entries)
            {
                if (!_pending.TryGetValue((organizationId, entry.Key), out var pending))
                {
                    _pending[(organizationId, entry.Key)] = pending = new Pending();
                }
                pending.Add(entry);
            }
        }
    }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(UsageBuffer), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    private Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Run(LoopAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _closed = true;
        }
        // Ingests already entered finish adding (they hold taken batch ids); a few milliseconds.
        for (var waited = 0; InFlight() > 0 && waited < 10_000 && !cancellationToken.IsCancellationRequested; waited += 10)
        {
            await Task.Delay(10, CancellationToken.None);
        }
        await _stopping.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }
        // The last forward: what is still here after it (a grain refused it) is lost, and said so.
        await ForwardAsync();
        var lost = _pending.Values.Sum(p => p.Requests);
        if (lost > 0)
        {
            LogLost(lost);
        }
    }

    private int InFlight()
    {
        lock (_lock)
        {
            return _inFlight;
        }
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(options.Value.ForwardInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                await ForwardAsync();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // stopping: the last forward follows
        }
    }

    /// <summary>Sends every model grain its totals; what a grain did not take goes back into the buffer.</summary>
    public async Task ForwardAsync()
    {
        var taken = new List<((Guid Organization, UsageKey Key) Key, UsageTotals Totals, LatencyBuckets Latency)>();
        lock (_lock)
        {
            // Each key's counts are kept and reused (a histogram is large); a key idle since the last forward is dropped.
            foreach (var (key, pending) in _pending.ToList())
            {
                if (pending.Requests == 0)
                {
                    _pending.Remove(key);
                }
                else
                {
                    var (totals, latency) = pending.Take();
                    taken.Add((key, totals, latency));
                }
            }
        }
        var sends = taken.GroupBy(p => (p.Key.Organization, p.Key.Key.Model)).Select(async group =>
        {
            var deltas = group.Select(p => new UsageDelta(p.Key.Key, p.Totals, p.Latency)).ToList();
            try
            {
                await ModelGrain(group.Key.Organization, group.Key.Model).RecordUsageAsync(group.Key.Organization, deltas);
            }
            catch (ProblemException e)
            {
                // Only usage of a model the organization does not own is refused, and the ingest checks that first.
                LogRefused(e, group.Key.Organization, group.Key.Model);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogForwardFailed(e, group.Key.Organization, group.Key.Model);
                lock (_lock)
                {
                    foreach (var (key, totals, latency) in group)
                    {
                        if (!_pending.TryGetValue(key, out var pending))
                        {
                            _pending[key] = pending = new Pending();
                        }
                        pending.Restore(totals, latency);
                    }
                }
            }
        });
        await Task.WhenAll(sends);
    }

    private IModelUsage ModelGrain(Guid organizationId, ModelChoice model) =>
        model.ModelId is { } id
            ? grains.GetGrain<IFineTunedModelGrain>(id)
            : grains.GetGrain<IBaseModelUsageGrain>(organizationId, model.BaseModel!);

    public void Dispose() => _stopping.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Usage of organization {OrganizationId} for {Model} not forwarded; kept for the next forward")]
    private partial void LogForwardFailed(Exception e, Guid organizationId, ModelChoice model);

    [LoggerMessage(Level = LogLevel.Error, Message = "Usage of organization {OrganizationId} for {Model} refused by its grain; dropped")]
    private partial void LogRefused(Exception e, Guid organizationId, ModelChoice model);

    [LoggerMessage(Level = LogLevel.Error, Message = "The silo stopped with the usage of {Requests} requests not forwarded; it is lost")]
    private partial void LogLost(long requests);

    /// <summary>One key's requests on this silo since the last forward; its latency counts are reused from one forward to the next.</summary>
    private sealed class Pending
    {
        private readonly HdrHistogram.HistogramBase _latency = LatencyHistogram.NewCounts();
        private UsageTotals _counts = UsageTotals.Empty; // the counters; latencies are in _latency

        public long Requests => _counts.Requests;

        public void Add(UsageEntry entry)
        {
            _counts = _counts.Merge(new UsageTotals(entry.Requests, entry.Successes, entry.InputTokens, entry.OutputTokens, 0m, 0,
                entry.Ratings, entry.RatingSum, entry.RatingSquares, LatencyHistogram.Empty));
            foreach (var microseconds in entry.LatenciesMicroseconds)
            {
                _latency.RecordValue(LatencyHistogram.Clamp(microseconds));
            }
        }

        /// <summary>Totals a grain did not take, back for the next forward.</summary>
        public void Restore(UsageTotals totals, LatencyBuckets latency)
        {
            _counts = _counts.Merge(totals);
            latency.AddTo(_latency);
        }

        /// <summary>The totals since the last take (unpriced: the model grain prices them) and their latencies, and a fresh start.</summary>
        public (UsageTotals Totals, LatencyBuckets Latency) Take()
        {
            var taken = (_counts, _latency.Buckets());
            _counts = UsageTotals.Empty;
            _latency.Reset();
            return taken;
        }
    }
}
