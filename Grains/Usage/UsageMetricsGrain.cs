using ObjectaLabs.Orleans.Deployment;

namespace ObjectaLabs.Orleans.Usage;

/// <summary>Reads one model's rollups and merges them: totals, and per experiment arm (see <see cref="IUsageMetricsGrain"/>).</summary>
[global::Orleans.Concurrency.StatelessWorker]
public sealed class UsageMetricsGrain(UsageRollups rollups) : Grain, IUsageMetricsGrain
{
    public async Task<ModelMetrics> GetMetricsAsync(Guid organizationId, UsageQuery query)
    {
        var model = query.Model;
        var from = UsageKey.HourOf(query.From);
        var to = UsageKey.HourOf(query.To) == query.To ? query.To : UsageKey.HourOf(query.To).AddHours(1);
        var rows = await rollups.QueryAsync(organizationId, model, from, to, query.ExperimentId);
        var arms = rows.GroupBy(r => (r.Key.ExperimentId, r.Key.Arm, r.Key.FellBack))
            .OrderBy(g => g.Key.ExperimentId).ThenBy(g => g.Key.Arm).ThenBy(g => g.Key.FellBack)
            .Select(g => new ArmMetrics(g.Key.ExperimentId, g.Key.Arm, g.Key.FellBack, UsageSummary.Of(g.Select(r => r.Value))))
            .ToList();
        return new ModelMetrics(model, from, to, UsageSummary.Of(rows.Values), arms);
    }
}
