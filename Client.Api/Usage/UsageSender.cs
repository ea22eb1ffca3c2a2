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
        organization.Queue.Enqueue(pending);
        // Lock-free: whoever turns Sending from 0 to 1 starts the pump; the pump turns it back only when it finds the
        // queue empty, and then looks once more, so a batch enqueued in between is never stranded.
        if (Interlocked.CompareExchange(ref organization.Sending, 1, 0) == 0)
        {
            _ = Task.Run(() => PumpAsync(organization));
        }
        return pending.Outcome.Task;
    }

    private async Task PumpAsync(Organization organization)
    {
        var taken = new List<Pending>(MaxBatchesPerCall);
        while (true)
        {
            taken.Clear();
            while (taken.Count < MaxBatchesPerCall && organization.Queue.TryDequeue(out var next))
            {
                taken.Add(next);
            }
            if (taken.Count == 0)
            {
                Volatile.Write(ref organization.Sending, 0);
                if (organization.Queue.IsEmpty || Interlocked.CompareExchange(ref organization.Sending, 1, 0) != 0)
                {
                    return;
                }
                continue;
            }
            try
            {
                var batches = new UsageBatch[taken.Count];
                for (var i = 0; i < taken.Count; i++)
                {
                    batches[i] = taken[i].Batch;
                }
                var outcomes = await grains.GetGrain<IUsageIngestGrain>(0).RecordAsync(organization.Id, batches);
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
        public ConcurrentQueue<Pending> Queue { get; } = new();
        public int Sending;
    }

    private sealed class Pending(UsageBatch batch)
    {
        public UsageBatch Batch { get; } = batch;
        public TaskCompletionSource<UsageOutcome> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
