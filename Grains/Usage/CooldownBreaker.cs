using ObjectaLabs.Orleans.Deployment;

namespace ObjectaLabs.Orleans.Usage;

/// <summary>
/// The cool-down breaker of one (organization, model): pure logic on an injected clock, thread-safe.
/// </summary>
/// <remarks>
/// Closed: outcomes are counted in a ring of <see cref="BreakerOptions.WindowBuckets"/> time buckets covering
/// <see cref="BreakerOptions.Window"/> (so the window slides in steps of one bucket). When the window holds at
/// least <see cref="BreakerOptions.MinimumRequests"/> outcomes and failures ÷ outcomes ≥
/// <see cref="BreakerOptions.FailureRate"/>, the model cools down for <see cref="BreakerOptions.Cooldown"/>.
/// Outcomes reported while cooling down are ignored (they were requests already in flight). When the cool-down
/// ends the breaker is half-open: the model is served again, and the first outcome reported decides (a batch with
/// any failure counts as a failure): success closes with an empty window, failure cools down again.
/// </remarks>
public sealed class CooldownBreaker
{
    private readonly BreakerOptions _options;
    private readonly TimeProvider _clock;
    private readonly long _bucketTicks;
    private readonly long[] _bucketEpochs;
    private readonly int[] _successes;
    private readonly int[] _failures;
    private readonly Lock _lock = new();
    private BreakerState _state = BreakerState.Closed;
    private DateTimeOffset _coolingDownUntil;

    public CooldownBreaker(BreakerOptions options, TimeProvider clock)
    {
        options.Validate();
        _options = options;
        _clock = clock;
        _bucketTicks = options.Window.Ticks / options.WindowBuckets;
        _bucketEpochs = new long[options.WindowBuckets];
        Array.Fill(_bucketEpochs, long.MinValue);
        _successes = new int[options.WindowBuckets];
        _failures = new int[options.WindowBuckets];
    }

    /// <summary>The state now (a cool-down that has run out reads as half-open).</summary>
    public BreakerStatus Status
    {
        get
        {
            lock (_lock)
            {
                Advance(_clock.GetUtcNow());
                return Snapshot();
            }
        }
    }

    /// <summary>Counts reported outcomes; returns the status after them (compare with the one before to see a change).</summary>
    public BreakerStatus Record(int successes, int failures)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(successes);
        ArgumentOutOfRangeException.ThrowIfNegative(failures);
        var now = _clock.GetUtcNow();
        lock (_lock)
        {
            Advance(now);
            switch (_state)
            {
                case BreakerState.HalfOpen when failures > 0:
                    CoolDown(now);
                    break;
                case BreakerState.HalfOpen when successes > 0:
                    _state = BreakerState.Closed;
                    Array.Fill(_bucketEpochs, long.MinValue);
                    break;
                case BreakerState.Closed:
                    Count(now, successes, failures);
                    if (ShouldTrip(now))
                    {
                        CoolDown(now);
                    }
                    break;
            }
            return Snapshot();
        }
    }

    /// <summary>Failures and outcomes in the window now (for metrics and tests).</summary>
    public (int Failures, int Outcomes) WindowCounts
    {
        get
        {
            lock (_lock)
            {
                return Totals(_clock.GetUtcNow());
            }
        }
    }

    private void Advance(DateTimeOffset now)
    {
        if (_state == BreakerState.CoolingDown && now >= _coolingDownUntil)
        {
            _state = BreakerState.HalfOpen;
        }
    }

    private void CoolDown(DateTimeOffset now)
    {
        _state = BreakerState.CoolingDown;
        _coolingDownUntil = now + _options.Cooldown;
        Array.Fill(_bucketEpochs, long.MinValue);
    }

    private BreakerStatus Snapshot() => _state switch
    {
        BreakerState.Closed => BreakerStatus.Closed,
        BreakerState.CoolingDown => new BreakerStatus(BreakerState.CoolingDown, _coolingDownUntil),
        _ => new BreakerStatus(BreakerState.HalfOpen, null),
    };

    private void Count(DateTimeOffset now, int successes, int failures)
    {
        var epoch = now.UtcTicks / _bucketTicks;
        var slot = (int)(epoch % _options.WindowBuckets);
        if (_bucketEpochs[slot] != epoch)
        {
            _bucketEpochs[slot] = epoch;
            _successes[slot] = 0;
            _failures[slot] = 0;
        }
        _successes[slot] += successes;
        _failures[slot] += failures;
    }

    private (int Failures, int Outcomes) Totals(DateTimeOffset now)
    {
        var epoch = now.UtcTicks / _bucketTicks;
        int failures = 0, outcomes = 0;
        for (var i = 0; i < _bucketEpochs.Length; i++)
        {
            if (_bucketEpochs[i] > epoch - _options.WindowBuckets && _bucketEpochs[i] <= epoch)
            {
                failures += _failures[i];
                outcomes += _successes[i] + _failures[i];
            }
        }
        return (failures, outcomes);
    }

    private bool ShouldTrip(DateTimeOffset now)
    {
        var (failures, outcomes) = Totals(now);
        return outcomes >= _options.MinimumRequests && failures >= _options.FailureRate * outcomes;
    }
}
