using ObjectaLabs.Orleans.Deployment;

namespace ObjectaLabs.Orleans.Usage;

/// <summary>The experiment arm a request was assigned to; <see cref="None"/> outside experiments.</summary>
public enum UsageArm
{
    None = 0,
    Control = 1,
    Candidate = 2,
}

/// <summary>
/// What usage is counted by: the model that served (a fine-tuned model or a catalog base model), the experiment and arm
/// the subject was assigned to, whether the fallback served it instead of the model it was assigned (counted apart, never
/// mixed into its arm), and the hour (UTC, whole) the request ended in.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.usage-key")]
public sealed record class UsageKey(ModelChoice Model, Guid? ExperimentId, UsageArm Arm, bool FellBack, DateTimeOffset Hour)
{
    /// <summary>How old a reported request may be: older ones are refused (their hours' figures were read long ago).</summary>
    public static readonly TimeSpan MaxEventAge = TimeSpan.FromDays(7);

    /// <summary>The whole UTC hour <paramref name="at"/> falls in.</summary>
    public static DateTimeOffset HourOf(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
    }
}

/// <summary>
/// Some requests of one <see cref="UsageKey"/>, counted: what the API makes of a batch's events (one entry per key in
/// the batch, <see cref="FirstEvent"/> the index of its first event, for refusals), with every latency in microseconds.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.usage-entry")]
public sealed record class UsageEntry(
    UsageKey Key,
    int FirstEvent,
    long Requests,
    long Successes,
    long InputTokens,
    long OutputTokens,
    long Ratings,
    long RatingSum,
    long RatingSquares,
    long[] LatenciesMicroseconds);

/// <summary>A batch of usage the runtime reported, by its id (a retried batch is counted once), as entries by key.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.usage-batch")]
public sealed record class UsageBatch(Guid BatchId, int Events, IReadOnlyList<UsageEntry> Entries)
{
    /// <summary>Most events in one reported batch.</summary>
    public const int MaxEvents = 1000;
}

/// <summary>What became of a batch: counted now, or a retry of one counted before (then nothing was counted again).</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.usage-receipt")]
public sealed record class UsageReceipt(Guid BatchId, int Events, bool Duplicate);

/// <summary>What became of one batch of several sent together: its receipt, or the field and reason it was refused for (nothing of it counted).</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.usage-outcome")]
public sealed record class UsageOutcome(UsageReceipt? Receipt, string? RefusedField, string? RefusedBecause);

/// <summary>
/// Latencies as a histogram's non-empty buckets (a value of each bucket, in microseconds, and its count): how a silo
/// hands a key's latencies to its model grain, which adds them into its own histogram without decoding anything.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.latency-buckets")]
public sealed record class LatencyBuckets(long[] Microseconds, long[] Counts)
{
    public static LatencyBuckets Empty { get; } = new([], []);
}

/// <summary>One key's totals (their latency in <see cref="Latency"/>, not in the totals), priced by the model grain that keeps them.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.usage-delta")]
public sealed record class UsageDelta(UsageKey Key, UsageTotals Totals, LatencyBuckets Latency);

/// <summary>
/// Figures of some requests: counts, tokens, cost (of the priced ones; <see cref="UnpricedRequests"/> have no catalog
/// price), latency read from one merged histogram (percentiles are never averaged), success rate and satisfaction.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.usage-metrics")]
public sealed record class UsageMetrics(
    long Requests,
    long Successes,
    double? SuccessRate,
    long InputTokens,
    long OutputTokens,
    decimal CostUsd,
    long UnpricedRequests,
    LatencySummary Latency,
    double? MeanSatisfaction,
    long SatisfactionCount);

/// <summary>One experiment arm's figures (or the traffic outside experiments: no experiment, arm none), served by the model or by the fallback.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.arm-metrics")]
public sealed record class ArmMetrics(Guid? ExperimentId, UsageArm Arm, bool FellBack, UsageMetrics Metrics);

/// <summary>A model's usage over [<see cref="From"/>, <see cref="To"/>) in whole hours: all of it, and by experiment arm.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.model-metrics")]
public sealed record class ModelMetrics(ModelChoice Model, DateTimeOffset From, DateTimeOffset To, UsageMetrics Total, IReadOnlyList<ArmMetrics> Arms);

/// <summary>What to read: one model, an hour range, one experiment (or all traffic).</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.usage-query")]
public sealed record class UsageQuery(ModelChoice Model, DateTimeOffset From, DateTimeOffset To, Guid? ExperimentId = null);

/// <summary>
/// An organization's usage ingest (keyed by the organization id): each batch's model ids are checked against the
/// organization, its id against those counted in the last hour, and its entries added to the buffer of the silo this
/// grain runs on, which forwards them to the model grains on a short timer. One call per API process's round: the API
/// sends the batches that arrived while its previous call was in flight together.
/// </summary>
[Alias("objectalabs.IUsageBatchesGrain")]
public interface IUsageBatchesGrain : IGrainWithGuidKey
{
    /// <summary>
    /// One outcome per batch, in order: counted, a duplicate (its id was counted before, or earlier in the list), or
    /// refused naming the event and field; a refused batch changes nothing and does not hold up the others.
    /// </summary>
    [Alias("record")]
    Task<IReadOnlyList<UsageOutcome>> RecordAsync(IReadOnlyList<UsageBatch> batches);

    /// <summary>
    /// Counts batches an API process already added up into one entry per key, all or nothing: true when every id was new
    /// and every model is the organization's, and all were counted; false when an id was counted before (or repeats) or a
    /// model is refused, and then nothing was taken or counted, so the API sends those batches again through
    /// <see cref="RecordAsync"/>, which judges each. The hot path: a call then carries each batch's id, not its entries.
    /// </summary>
    [Alias("record-merged")]
    Task<bool> RecordMergedAsync(IReadOnlyList<Guid> batchIds, IReadOnlyList<UsageEntry> entries);
}

/// <summary>
/// A model that keeps its usage: a fine-tuned model's grain, or the grain of one organization's use of a base model. It adds
/// the silos' forwarded totals up in memory, prices them from the catalog and writes its hourly rollups on a timer.
/// </summary>
[Alias("objectalabs.IModelUsage")]
public interface IModelUsage : IAddressable
{
    [Alias("record-usage")]
    Task RecordUsageAsync(Guid organizationId, IReadOnlyList<UsageDelta> deltas);
}

/// <summary>One organization's use of one catalog base model (key: organization id, extension: base model id).</summary>
[Alias("objectalabs.IBaseModelUsageGrain")]
public interface IBaseModelUsageGrain : IGrainWithGuidCompoundKey, IModelUsage;

/// <summary>Reads usage rollups (stateless: any silo answers).</summary>
[Alias("objectalabs.IUsageMetricsGrain")]
public interface IUsageMetricsGrain : IGrainWithIntegerKey
{
    [Alias("metrics")]
    Task<ModelMetrics> GetMetricsAsync(Guid organizationId, UsageQuery query);
}
