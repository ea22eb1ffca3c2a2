using ObjectaLabs.Orleans.Deployment;

namespace ObjectaLabs.Orleans.Usage;

/// <summary>
/// One model's usage as its grain keeps it: the whole totals of every (experiment, arm, fallback, hour) it was told of
/// in this activation (read from the rollups the first time), which of them are not written yet, and the prices it
/// charges. Writes are coalesced: one statement for everything changed since the last, one at a time (the grain's turn).
/// </summary>
public sealed class UsageLedger(Guid organizationId, UsageRollups rollups, decimal? inputPerMillion, decimal? outputPerMillion, TimeProvider clock)
{
    /// <summary>Hours kept in memory once written; older ones are read back if they are reported again.</summary>
    private static readonly TimeSpan KeptHours = TimeSpan.FromHours(2);

    // Each key's counters (latency empty) and its latency counts, kept mutable: merging encoded histograms on every
    // forward would decode and re-encode them each time; they are encoded once per write.
    private readonly Dictionary<UsageKey, UsageTotals> _totals = [];
    private readonly Dictionary<UsageKey, HdrHistogram.HistogramBase> _latency = [];
    private readonly HashSet<UsageKey> _unwritten = [];

    public bool HasUnwritten => _unwritten.Count > 0;

    /// <summary>Adds forwarded totals (priced here), reading the stored totals of keys not held yet.</summary>
    public async Task AddAsync(IReadOnlyList<UsageDelta> deltas)
    {
        var missing = deltas.Select(d => d.Key).Where(k => !_totals.ContainsKey(k)).Distinct().ToList();
        if (missing.Count > 0)
        {
            var stored = await rollups.LoadAsync(organizationId, missing);
            foreach (var key in missing)
            {
                var row = stored.GetValueOrDefault(key) ?? UsageTotals.Empty;
                _totals[key] = row with { Latency = LatencyHistogram.Empty };
                row.Latency.AddTo(_latency[key] = LatencyHistogram.NewCounts());
            }
        }
        foreach (var (key, totals, latency) in deltas)
        {
            _totals[key] = _totals[key].Merge(Priced(totals) with { Latency = LatencyHistogram.Empty });
            latency.AddTo(_latency[key]);
            _unwritten.Add(key);
        }
    }

    /// <summary>Writes every key changed since the last write; on failure they stay unwritten for the next one.</summary>
    public async Task FlushAsync()
    {
        if (_unwritten.Count == 0)
        {
            return;
        }
        var keys = _unwritten.ToList();
        await rollups.WriteAsync(organizationId, keys.Select(k => (k, _totals[k] with { Latency = LatencyHistogram.Of(_latency[k]) })).ToList());
        _unwritten.ExceptWith(keys);
        var oldest = UsageKey.HourOf(clock.GetUtcNow() - KeptHours);
        foreach (var key in _totals.Keys.Where(k => k.Hour < oldest && !_unwritten.Contains(k)).ToList())
        {
            _totals.Remove(key);
            _latency.Remove(key);
        }
    }

    /// <summary>The cost of the requests at this model's prices per million tokens; all unpriced when a price is unknown.</summary>
    private UsageTotals Priced(UsageTotals totals) =>
        inputPerMillion is { } input && outputPerMillion is { } output
            ? totals with { CostUsd = (totals.InputTokens * input + totals.OutputTokens * output) / 1_000_000m, UnpricedRequests = 0 }
            : totals with { CostUsd = 0m, UnpricedRequests = totals.Requests };
}
