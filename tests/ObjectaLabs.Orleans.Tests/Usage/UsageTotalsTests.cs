using ObjectaLabs.Orleans.Deployment;

namespace ObjectaLabs.Orleans.Tests.Usage;

public sealed class UsageTotalsTests
{
    /// <summary>Totals of some requests: (success, input, output, cost or null when unpriced, rating or null, latency in µs).</summary>
    private static UsageTotals Totals(IEnumerable<(bool Success, long Input, long Output, decimal? Cost, int? Rating, long Micros)> requests)
    {
        var list = requests.ToList();
        return new UsageTotals(list.Count, list.Count(r => r.Success), list.Sum(r => r.Input), list.Sum(r => r.Output), list.Sum(r => r.Cost ?? 0m),
            list.Count(r => r.Cost is null), list.Count(r => r.Rating is not null), list.Sum(r => r.Rating ?? 0), list.Sum(r => (r.Rating ?? 0) * (r.Rating ?? 0)),
            LatencyHistogram.FromMicroseconds(list.Select(r => r.Micros)));
    }

    [Fact]
    public void Merge_of_totals_equals_counting_everything_in_one_place()
    {
        var requests = Enumerable.Range(0, 500).Select(i => (Success: i % 7 != 0, Input: 100L + i, Output: 20L + i % 13,
            Cost: i % 11 == 0 ? (decimal?)null : 0.000001m * i, Rating: i % 3 == 0 ? (int?)(1 + i % 5) : null, Micros: 500L + 37 * i)).ToList();

        var merged = Totals(requests.Where((_, i) => i % 2 == 0)).Merge(Totals(requests.Where((_, i) => i % 2 == 1)));

        merged.Should().Be(Totals(requests));
        merged.Latency.Summarize().Should().Be(Totals(requests).Latency.Summarize(), "percentiles come from the merged histogram, never averaged");
    }

    [Fact]
    public void Rates_and_means_are_read_from_the_counters()
    {
        var totals = Totals([(true, 100, 40, 0.0001m, 5, 10_000), (false, 200, 0, null, null, 30_000), (true, 50, 10, 0.00005m, 2, 20_000)]);

        (totals.Requests, totals.Successes, totals.Failures).Should().Be((3L, 2L, 1L));
        totals.SuccessRate.Should().BeApproximately(2.0 / 3, 1e-12);
        totals.MeanSatisfaction.Should().Be(3.5);
        (totals.SatisfactionCount, totals.SatisfactionSum, totals.SatisfactionSquares).Should().Be((2L, 7L, 29L)); // 5² + 2² = 29
        totals.Latency.Summarize().P50Ms.Should().BeApproximately(20, 0.02);
        UsageTotals.Empty.SuccessRate.Should().BeNull();
        UsageTotals.Empty.MeanSatisfaction.Should().BeNull();
    }

    [Fact]
    public void Samples_for_the_experiment_statistics_come_from_the_totals()
    {
        var totals = new UsageTotals(10, 7, 0, 0, 0m, 0, 4, 14, 52, LatencyHistogram.Empty);
        totals.SuccessSample.Should().Be(new ArmSample(10, 7, 7));
        totals.SatisfactionSample.Should().Be(new ArmSample(4, 14, 52));
    }
}
