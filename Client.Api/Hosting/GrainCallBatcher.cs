using System.Collections.Concurrent;

namespace ObjectaLabs.Orleans.Api.Hosting;

/// <summary>
/// Sends requests to the cluster in batches, per organization: at most <c>maxInFlight</c> calls in flight per
/// organization, each carrying up to <c>maxPerCall</c> requests that arrived meanwhile. When idle a request goes at once,
/// alone; under load one grain call (its message, scheduling and serialization) serves many requests. Each request
/// still gets its own outcome, and a failed call fails only the requests it carried.
/// </summary>
public sealed class GrainCallBatcher<TRequest, TOutcome>(
    Func<Guid, IReadOnlyList<TRequest>, Task<IReadOnlyList<TOutcome>>> call, int maxPerCall, int maxInFlight = 1)
{
    private readonly ConcurrentDictionary<Guid, Organization> _organizations = new();

    public Task<TOutcome> SendAsync(Guid organizationId, TRequest request)
    {
        var organization = _organizations.GetOrAdd(organizationId, id => new Organization(id));
        var pending = new Pending(request);
        organization.Queue.Enqueue(pending);
        // Lock-free: a pump starts when fewer than maxInFlight run; a pump leaves only after it found the queue empty
        // and looked once more, so a request enqueued in between is never stranded.
        StartPumpIfRoom(organization);
        return pending.Outcome.Task;
    }

    private void StartPumpIfRoom(Organization organization)
    {
        while (true)
        {
            var running = Volatile.Read(ref organization.Pumps);
            if (running >= maxInFlight)
            {
                return;
            }
            if (Interlocked.CompareExchange(ref organization.Pumps, running + 1, running) == running)
            {
                _ = Task.Run(() => PumpAsync(organization));
                return;
            }
        }
    }

    private async Task PumpAsync(Organization organization)
    {
        var taken = new List<Pending>(maxPerCall);
        while (true)
        {
            taken.Clear();
            while (taken.Count < maxPerCall && organization.Queue.TryDequeue(out var next))
            {
                taken.Add(next);
            }
            if (taken.Count == 0)
            {
                Interlocked.Decrement(ref organization.Pumps);
                if (organization.Queue.IsEmpty)
                {
                    return;
                }
                // Something arrived as this pump was leaving: carry on if there is still room for a pump.
                var running = Volatile.Read(ref organization.Pumps);
                if (running >= maxInFlight || Interlocked.CompareExchange(ref organization.Pumps, running + 1, running) != running)
                {
                    return;
                }
                continue;
            }
            try
            {
                var requests = new TRequest[taken.Count];
                for (var i = 0; i < taken.Count; i++)
                {
                    requests[i] = taken[i].Request;
                }
                var outcomes = await call(organization.Id, requests);
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
        public int Pumps;
    }

    private sealed class Pending(TRequest request)
    {
        public TRequest Request { get; } = request;
        public TaskCompletionSource<TOutcome> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
