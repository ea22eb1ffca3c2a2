namespace ObjectaLabs.Orleans.Diagnostics;

/// <summary>One reminder tick as the probe saw it: when, and which silo delivered it.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.probe-tick")]
public sealed record class ProbeTick(DateTimeOffset At, string Silo);

/// <summary>What a probe has recorded so far.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.probe-report")]
public sealed record class ReminderProbeReport(int Ticks, IReadOnlyList<ProbeTick> Recent);

/// <summary>
/// An operator's check that durable reminders fire on this deployment: it registers a reminder and
/// persists every tick with the silo that delivered it, so a failover can be watched from outside.
/// </summary>
[Alias("objectalabs.IReminderProbeGrain")]
public interface IReminderProbeGrain : IGrainWithStringKey
{
    /// <summary>Registers (or re-registers) the probe's reminder with this period.</summary>
    [Alias("start")]
    Task StartAsync(TimeSpan period);

    /// <summary>Unregisters the reminder.</summary>
    [Alias("stop")]
    Task StopAsync();

    /// <summary>The ticks recorded so far.</summary>
    [Alias("report"), global::Orleans.Concurrency.ReadOnly]
    ValueTask<ReminderProbeReport> GetReportAsync();
}
