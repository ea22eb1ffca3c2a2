using ObjectaLabs.Orleans.Deployment;

namespace ObjectaLabs.Orleans.Usage;

/// <summary>Reads one model's rollups and merges them: totals, and per experiment arm (see <see cref="IUsageMetricsGrain"/>).</summary>
[global::Orleans.Concurrency.StatelessWorker]
public sealed class UsageMetricsGrain(UsageRollups rollups) : Grain, IUsageMetricsGrain
{
    public async Task<ModelMetrics> GetMetricsAsync(Guid organizationId, UsageQuery query)
    {
        var model = query.Model ?? throw new ArgumentException("A model is required.", nameof(query));
        var from = UsageKey.HourOf(query.From);
        var to = UsageKey.HourOf(query.To) == query.To ? query.To : UsageKey.HourOf(query.To).AddHours(1);
        var rows = await rollups.QueryAsync(organizationId, model, from, to, query.ExperimentId);
        var arms = rows.GroupBy(r => (r.Key.ExperimentId, r.Key.Arm, r.Key.FellBack))
            .OrderBy(g => g.Key.ExperimentId).ThenBy(g => g.Key.Arm).ThenBy(g => g.Key.FellBack)
            .Select(g => new ArmMetrics(g.Key.ExperimentId, g.Key.Arm, g.Key.FellBack, Summarize(g.Select(r => r.Value))))
            .ToList();
        return new ModelMetrics(model, from, to, Summarize(rows.Values), arms);
    }

    /// <summary>The figures of merged totals: counters add, histograms merge, and percentiles are read from the merged one.</summary>
    public static UsageMetrics Summarize(IEnumerable<UsageTotals> totals)
    {
        var list = totals.ToList();
        var merged = list.Aggregate(UsageTotals.Empty, (a, b) => a.Merge(b with { Latency = LatencyHistogram.Empty }));
        var latency = LatencyHistogram.MergeAll(list.Select(t => t.Latency));
        return new UsageMetrics(merged.Requests, merged.Successes, merged.SuccessRate, merged.InputTokens, merged.OutputTokens, merged.CostUsd,
            merged.UnpricedRequests, latency.Summarize(), merged.MeanSatisfaction, merged.SatisfactionCount);
    }
}
