using System.Collections.Concurrent;
using ObjectaLabs.Orleans.Api.Hosting;
using ObjectaLabs.Orleans.Usage;

namespace ObjectaLabs.Orleans.Api.Usage;

/// <summary>
/// Sends reported batches to the cluster, one call in flight per organization: batches that arrive while it is in flight
/// go together in the next call (at most <see cref="MaxBatchesPerCall"/>), so under load a call carries many batches and
/// when idle a batch goes at once. A call of several batches first goes added up (<see cref="UsageMerge"/>: one entry
/// per key and the batches' ids), counted all or nothing; when the cluster declines that (an id counted before or
/// repeated, a model refused) nothing was counted and the batches go again one by one, each judged on its own. Each
/// request still waits for its own batch's outcome, so a 202 means the cluster took it, and a duplicate is answered as one.
/// </summary>
public sealed class UsageSender
{
    public const int MaxBatchesPerCall = 64;

    private readonly IGrainFactory _grains;
    private readonly GrainCallBatcher<UsageBatch, UsageOutcome> _batcher;
    private readonly ConcurrentDictionary<Guid, IUsageBatchesGrain> _ingests = new();
    private long _merged;

    public UsageSender(IGrainFactory grains)
    {
        _grains = grains;
        _batcher = new GrainCallBatcher<UsageBatch, UsageOutcome>(CallAsync, MaxBatchesPerCall);
    }

    /// <summary>Batches counted added up with others (the rest went one by one).</summary>
    public long MergedBatches => Interlocked.Read(ref _merged);

    public Task<UsageOutcome> SendAsync(Guid organizationId, UsageBatch batch) => _batcher.SendAsync(organizationId, batch);

    private async Task<IReadOnlyList<UsageOutcome>> CallAsync(Guid organizationId, IReadOnlyList<UsageBatch> batches)
    {
        // A grain reference is reused: making one looks the interface up by reflection each time.
        var ingest = _ingests.GetOrAdd(organizationId, static (id, grains) => grains.GetGrain<IUsageBatchesGrain>(id), _grains);
        if (batches.Count > 1 && await ingest.RecordMergedAsync([.. batches.Select(b => b.BatchId)], UsageMerge.Of(batches)))
        {
            Interlocked.Add(ref _merged, batches.Count);
            return [.. batches.Select(b => new UsageOutcome(new UsageReceipt(b.BatchId, b.Events, Duplicate: false), null, null))];
        }
        return await ingest.RecordAsync(batches);
    }
}
