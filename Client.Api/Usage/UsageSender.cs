using ObjectaLabs.Orleans.Api.Hosting;
using ObjectaLabs.Orleans.Usage;

namespace ObjectaLabs.Orleans.Api.Usage;

/// <summary>
/// Sends reported batches to the cluster, one call in flight per organization: batches that arrive while it is in flight
/// go together in the next call (at most <see cref="MaxBatchesPerCall"/>), so under load a call carries many batches and
/// when idle a batch goes at once. Each request still waits for its own batch's outcome, so a 202 means the cluster
/// took it, and a duplicate is answered as one.
/// </summary>
public sealed class UsageSender(IGrainFactory grains)
{
    public const int MaxBatchesPerCall = 64;

    private readonly GrainCallBatcher<UsageBatch, UsageOutcome> _batcher = new(
        (organizationId, batches) => grains.GetGrain<IUsageIngestGrain>(0).RecordAsync(organizationId, batches), MaxBatchesPerCall);

    public Task<UsageOutcome> SendAsync(Guid organizationId, UsageBatch batch) => _batcher.SendAsync(organizationId, batch);
}
