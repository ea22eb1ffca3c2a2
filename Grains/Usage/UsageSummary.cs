using ObjectaLabs.Orleans.Deployment;

namespace ObjectaLabs.Orleans.Usage;

/// <summary>The figures of merged totals: counters add, histograms merge, and percentiles are read from the merged one.</summary>
public static class UsageSummary
{
    public static UsageMetrics Of(IEnumerable<UsageTotals> totals)
    {
        var list = totals.ToList();
        var merged = list.Aggregate(UsageTotals.Empty, (a, b) => a.Merge(b with { Latency = LatencyHistogram.Empty }));
        var latency = LatencyHistogram.MergeAll(list.Select(t => t.Latency));
        return new UsageMetrics(merged.Requests, merged.Successes, merged.SuccessRate, merged.InputTokens, merged.OutputTokens, merged.CostUsd,
            merged.UnpricedRequests, latency.Summarize(), merged.MeanSatisfaction, merged.SatisfactionCount);
    }
}
