using System.Collections.Concurrent;
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

    private readonly ConcurrentDictionary<Guid, Organization> _organizations = new();

    public Task<UsageOutcome> SendAsync(Guid organizationId, UsageBatch batch)
    {
        var organization = _organizations.GetOrAdd(organizationId, id => new Organization(id));
        var pending = new Pending(batch);
        bool start;
        lock (organization)
        {
            organization.Queue.Add(pending);
            start = !organization.Sending;
            organization.Sending = true;
        }
        if (start)
        {
            _ = Task.Run(() => PumpAsync(organization));
        }
        return pending.Outcome.Task;
    }

    private async Task PumpAsync(Organization organization)
    {
        while (true)
        {
            List<Pending> taken;
            lock (organization)
            {
                if (organization.Queue.Count == 0)
                {
                    organization.Sending = false;
                    return;
                }
                var count = Math.Min(organization.Queue.Count, MaxBatchesPerCall);
                taken = organization.Queue.GetRange(0, count);
                organization.Queue.RemoveRange(0, count);
            }
            try
            {
                var outcomes = await grains.GetGrain<IUsageIngestGrain>(0).RecordAsync(organization.Id, [.. taken.Select(p => p.Batch)]);
                for (var i = 0; i < taken.Count; i++)
                {
                    taken[i].Outcome.TrySetResult(outcomes[i]);
                }
            }
            catch (Exception e)
            {
                foreach (var pending in taken)
                {
                    pending.Outcome.TrySetException(e);
                }
            }
        }
    }

    private sealed class Organization(Guid id)
    {
        public Guid Id { get; } = id;
        public List<Pending> Queue { get; } = [];
        public bool Sending { get; set; }
    }

    private sealed class Pending(UsageBatch batch)
    {
        public UsageBatch Batch { get; } = batch;
        public TaskCompletionSource<UsageOutcome> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
