using System.ComponentModel.DataAnnotations;

namespace ObjectaLabs.Orleans.Usage;

/// <summary>
/// How usage travels (section <c>Usage</c>): each silo forwards what it received to the model grains every
/// <see cref="ForwardInterval"/>; each model grain writes its rollups every <see cref="FlushInterval"/> (and when it is
/// deactivated, so a graceful stop loses nothing). A hard crash loses at most the usage of the last
/// <see cref="ForwardInterval"/> + <see cref="FlushInterval"/>.
/// </summary>
public sealed class UsageOptions
{
    public const string Section = "Usage";

    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan ForwardInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a batch id is remembered, so a retry within it is counted once.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan BatchIdMemory { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Most batch ids remembered per organization (the oldest are forgotten first).</summary>
    [Range(1_000, 10_000_000)]
    public int MaxRememberedBatches { get; set; } = 200_000;

    /// <summary>The window failures are counted over for a cool-down (in 12 steps).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan CooldownWindow { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The share of failed requests in the window that cools a model down.</summary>
    [Range(0.01, 1.0)]
    public double CooldownFailureRate { get; set; } = 0.5;

    /// <summary>The fewest requests in the window before a cool-down can start.</summary>
    [Range(1, 1_000_000)]
    public int CooldownMinimumRequests { get; set; } = 20;

    /// <summary>How long a model cools down (its traffic goes to the fallback) before it is tried again.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan CooldownDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The breaker settings these make.</summary>
    public ObjectaLabs.Orleans.Deployment.BreakerOptions Breaker() =>
        new(CooldownWindow, 12, CooldownFailureRate, CooldownMinimumRequests, CooldownDuration);
}
