namespace ObjectaLabs.Orleans.Deployment;

/// <summary>
/// Usage counters for one model (or one experiment arm) over some span of time: what a silo pre-aggregates,
/// what a model grain keeps, what an hourly rollup row holds. Totals from different silos and hours
/// <see cref="Merge"/> into the same figures as if every event had been counted in one place.
/// </summary>
/// <remarks>
/// <see cref="CostUsd"/> is the cost of the requests whose price is known; <see cref="UnpricedRequests"/> counts
/// those whose price the catalog does not know, so a total is never silently too low. Satisfaction keeps its
/// sum of squares as well, so the experiment statistics can compute a variance from merged totals.
/// </remarks>
[GenerateSerializer, Immutable, Alias("objectalabs.usage-totals")]
public sealed record class UsageTotals(
    long Requests,
    long Successes,
    long InputTokens,
    long OutputTokens,
    decimal CostUsd,
    long UnpricedRequests,
    long SatisfactionCount,
    long SatisfactionSum,
    long SatisfactionSquares,
    LatencyHistogram Latency)
{
    public static UsageTotals Empty { get; } = new(0, 0, 0, 0, 0m, 0, 0, 0, 0, LatencyHistogram.Empty);

    public long Failures => Requests - Successes;

    /// <summary>Successes ÷ requests; null before the first request.</summary>
    public double? SuccessRate => Requests == 0 ? null : (double)Successes / Requests;

    /// <summary>Mean satisfaction (1–5); null before the first rating.</summary>
    public double? MeanSatisfaction => SatisfactionCount == 0 ? null : (double)SatisfactionSum / SatisfactionCount;

    /// <summary>Both totals together (counters add, latency histograms merge exactly).</summary>
    public UsageTotals Merge(UsageTotals other) => new(
        Requests + other.Requests,
        Successes + other.Successes,
        InputTokens + other.InputTokens,
        OutputTokens + other.OutputTokens,
        CostUsd + other.CostUsd,
        UnpricedRequests + other.UnpricedRequests,
        SatisfactionCount + other.SatisfactionCount,
        SatisfactionSum + other.SatisfactionSum,
        SatisfactionSquares + other.SatisfactionSquares,
        Latency.Merge(other.Latency));

    /// <summary>Success (1) or failure (0) per request, as the experiment statistics read it.</summary>
    public ArmSample SuccessSample => new(Requests, Successes, Successes);

    /// <summary>Satisfaction ratings, as the experiment statistics read them.</summary>
    public ArmSample SatisfactionSample => new(SatisfactionCount, SatisfactionSum, SatisfactionSquares);
}
