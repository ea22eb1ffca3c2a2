namespace ObjectaLabs.Orleans.Uploads;

/// <summary>
/// A fair share of a silo for each organization's uploads: one organization's uploads on this silo check one chunk at
/// a time (each chunk on at most <see cref="UploadSettings.EffectiveParallelism"/> cores), so an organization running
/// several uploads at once gets no more of the silo than one running one, and never crowds the others out.
/// </summary>
public sealed class UploadFairness
{
    private readonly Dictionary<Guid, Gate> _gates = [];

    /// <summary>Waits for the organization's turn; dispose the answer to end it.</summary>
    public async Task<IDisposable> EnterAsync(Guid organizationId, CancellationToken cancellationToken = default)
    {
        Gate gate;
        lock (_gates)
        {
            if (!_gates.TryGetValue(organizationId, out gate!))
            {
                _gates[organizationId] = gate = new Gate();
            }
            gate.Users++;
        }
        try
        {
            await gate.Semaphore.WaitAsync(cancellationToken);
        }
        catch
        {
            Leave(organizationId, gate, release: false);
            throw;
        }
        return new Turn(this, organizationId, gate);
    }

    /// <summary>Organizations with an upload chunk waiting or running here (for tests and diagnostics).</summary>
    public int ActiveOrganizations
    {
        get
        {
            lock (_gates)
            {
                return _gates.Count;
            }
        }
    }

    private void Leave(Guid organizationId, Gate gate, bool release)
    {
        if (release)
        {
            gate.Semaphore.Release();
        }
        lock (_gates)
        {
            if (--gate.Users == 0)
            {
                _gates.Remove(organizationId);
            }
        }
    }

    private sealed class Gate
    {
        public SemaphoreSlim Semaphore { get; } = new(1, 1);
        public int Users { get; set; }
    }

    private sealed class Turn(UploadFairness owner, Guid organizationId, Gate gate) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                owner.Leave(organizationId, gate, release: true);
            }
        }
    }
}
