namespace ObjectaLabs.Orleans.Deployment;

/// <summary>Where a model's breaker stands.</summary>
public enum BreakerState
{
    /// <summary>Served normally; outcomes are counted over the sliding window.</summary>
    Closed = 0,
    /// <summary>Cooling down: traffic goes to the fallback until <see cref="BreakerStatus.CoolingDownUntil"/>.</summary>
    CoolingDown = 1,
    /// <summary>Cool-down over: the model is tried again; the first reported success closes, the first failure re-opens.</summary>
    HalfOpen = 2,
}

/// <summary>A breaker's state as resolution needs it; small and immutable, to be pushed to every API process.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.breaker-status")]
public sealed record class BreakerStatus(BreakerState State, DateTimeOffset? CoolingDownUntil)
{
    public static BreakerStatus Closed { get; } = new(BreakerState.Closed, null);

    /// <summary>False only while cooling down: then resolution sends the model's traffic to the fallback.</summary>
    public bool Serves => State != BreakerState.CoolingDown;
}

/// <summary>When a model cools down, for how long, and how it is tried again.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.breaker-options")]
public sealed record class BreakerOptions(
    TimeSpan Window,
    int WindowBuckets,
    double FailureRate,
    int MinimumRequests,
    TimeSpan Cooldown)
{
    /// <summary>60 s window in 12 buckets; trips at ≥ 50 % failures of at least 20 requests; cools down 30 s.</summary>
    public static BreakerOptions Default { get; } = new(TimeSpan.FromSeconds(60), 12, 0.5, 20, TimeSpan.FromSeconds(30));

    /// <summary>Throws when a setting makes no sense (checked when a breaker is made).</summary>
    public void Validate()
    {
        if (Window <= TimeSpan.Zero || WindowBuckets < 1 || WindowBuckets > 3600 || Window.Ticks < WindowBuckets)
        {
            throw new ArgumentOutOfRangeException(nameof(Window), Window, "The window must be positive and hold 1 to 3600 buckets.");
        }
        if (!(FailureRate > 0 && FailureRate <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(FailureRate), FailureRate, "The failure rate must be in (0, 1].");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(MinimumRequests, 1, nameof(MinimumRequests));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Cooldown, TimeSpan.Zero, nameof(Cooldown));
    }
}
