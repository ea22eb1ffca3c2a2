using System.Diagnostics.Metrics;

namespace ObjectaLabs.Orleans.Training.Jobs;

/// <summary>
/// The job grains' instruments (meter <c>ObjectaLabs.Orleans.TrainingJobs</c>): polls delivered to providers, so an
/// operator (or <c>bench/run jobs</c>) can compare them with the polls due.
/// </summary>
public static class TrainingJobMetrics
{
    public const string MeterName = "ObjectaLabs.Orleans.TrainingJobs";
    public const string PollsName = "objectalabs.training_jobs.polls";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>One poll of a job's provider (status, events, checkpoints), counted once it answered.</summary>
    public static readonly Counter<long> Polls = Meter.CreateCounter<long>(PollsName, "{poll}", "Provider polls delivered by training job grains.");
}
