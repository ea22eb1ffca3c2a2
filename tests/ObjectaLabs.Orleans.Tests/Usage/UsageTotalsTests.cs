using ObjectaLabs.Orleans.Deployment;

namespace ObjectaLabs.Orleans.Tests.Usage;

public sealed class UsageTotalsTests
{
    [Fact]
    public void Accumulator_counts_requests_tokens_cost_satisfaction_and_latency()
    {
        var accumulator = new UsageAccumulator();
        accumulator.Add(success: true, 100, 40, 0.0001m, satisfaction: 5, TimeSpan.FromMilliseconds(10));
        accumulator.Add(success: false, 200, 0, null, satisfaction: null, TimeSpan.FromMilliseconds(30));
        accumulator.Add(success: true, 50, 10, 0.00005m, satisfaction: 2, TimeSpan.FromMilliseconds(20));

        var totals = accumulator.Take();

        (totals.Requests, totals.Successes, totals.Failures).Should().Be((3L, 2L, 1L));
        (totals.InputTokens, totals.OutputTokens).Should().Be((350L, 50L));
        totals.CostUsd.Should().Be(0.00015m);
        totals.UnpricedRequests.Should().Be(1);
        (totals.SatisfactionCount, totals.SatisfactionSum, totals.SatisfactionSquares).Should().Be((2L, 7L, 29L)); // 5² + 2² = 29
        totals.MeanSatisfaction.Should().Be(3.5);
        totals.SuccessRate.Should().BeApproximately(2.0 / 3, 1e-12);
        var latency = totals.Latency.Summarize();
        latency.Count.Should().Be(3);
        latency.MeanMs.Should().BeApproximately(20, 0.02);
        latency.P50Ms.Should().BeApproximately(20, 0.02);
    }

    [Fact]
    public void Take_starts_afresh_so_nothing_is_counted_twice()
    {
        var accumulator = new UsageAccumulator();
        accumulator.Add(true, 1, 1, 0m, null, TimeSpan.FromMilliseconds(1));
        accumulator.Take().Requests.Should().Be(1);
        accumulator.Take().Should().Be(UsageTotals.Empty);
    }

    [Fact]
    public void Merge_of_totals_equals_counting_everything_in_one_place()
    {
        var silo1 = new UsageAccumulator();
        var silo2 = new UsageAccumulator();
        var all = new UsageAccumulator();
        for (var i = 0; i < 500; i++)
        {
            var (success, input, output, cost, rating, latency) = (i % 7 != 0, 100 + i, 20 + i % 13, i % 11 == 0 ? (decimal?)null : 0.000001m * i, i % 3 == 0 ? (int?)(1 + i % 5) : null, TimeSpan.FromMicroseconds(500 + 37 * i));
            (i % 2 == 0 ? silo1 : silo2).Add(success, input, output, cost, rating, latency);
            all.Add(success, input, output, cost, rating, latency);
        }

        silo1.Take().Merge(silo2.Take()).Should().Be(all.Take());
    }

    [Fact]
    public void Samples_for_the_experiment_statistics_come_from_the_totals()
    {
        var totals = new UsageTotals(10, 7, 0, 0, 0m, 0, 4, 14, 52, LatencyHistogram.Empty);
        totals.SuccessSample.Should().Be(new ArmSample(10, 7, 7));
        totals.SatisfactionSample.Should().Be(new ArmSample(4, 14, 52));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(6)]
    public void Satisfaction_outside_1_to_5_is_refused_and_changes_nothing(int rating)
    {
        var accumulator = new UsageAccumulator();
        var add = () => accumulator.Add(true, 1, 1, 0m, rating, TimeSpan.FromMilliseconds(1));
        add.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("satisfaction");
        accumulator.Take().Should().Be(UsageTotals.Empty);
    }
}
