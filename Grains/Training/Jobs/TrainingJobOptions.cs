using System.ComponentModel.DataAnnotations;

namespace ObjectaLabs.Orleans.Training.Jobs;

/// <summary>
/// <c>TrainingJobs</c>: how jobs follow their provider. A job's reminder ticks every <see cref="PollInterval"/>;
/// after a transient fault (429, 5xx, timeout, database down) it waits 2ⁿ intervals, at most <see cref="MaxBackoff"/>,
/// or longer when the provider says so (Retry-After), and fails the job once faults have lasted <see cref="GiveUpAfter"/>.
/// The reminder's period cannot be below the silo's minimum reminder period (one minute unless
/// <c>Orleans:MinimumReminderPeriod</c> lowers it, as tests do).
/// </summary>
public sealed class TrainingJobOptions
{
    public const string Section = "TrainingJobs";

    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMinutes(1);

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(30);

    [Range(typeof(TimeSpan), "00:00:10", "30.00:00:00")]
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromDays(3);

    /// <summary>
    /// While a sandbox job is in flight its grain also polls on a grain timer this often, so <c>./run</c> trains in
    /// seconds; the reminder stays the durable guarantee (after a crash it re-activates the grain, which restarts the timer).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan SandboxPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often a job of <paramref name="provider"/> is polled while in flight.</summary>
    public TimeSpan IntervalFor(string provider) =>
        provider == ObjectaLabs.Orleans.Providers.Accounts.ProviderNames.Sandbox && SandboxPollInterval < PollInterval ? SandboxPollInterval : PollInterval;

    /// <summary>Pages of provider events read per poll at most (the rest follow at the next poll).</summary>
    [Range(1, 100)]
    public int EventPagesPerPoll { get; set; } = 5;
}
