using ObjectaLabs.Orleans.Deployment;
using ObjectaLabs.Orleans.Experiments;
using Xunit.Abstractions;

namespace ObjectaLabs.Orleans.Tests.Experiments;

/// <summary>
/// Simulated experiments with known truth (fixed seeds): the verdict is looked at every 100 subjects up to 10,000,
/// as an impatient user would, and must stay honest.
/// </summary>
public sealed class ExperimentSimulationTests(ITestOutputHelper output)
{
    private const int Subjects = 10_000;
    private const int LookEvery = 100;
    private static readonly ExperimentOptions Options = new(Alpha: 0.05, TuningSamples: 5_000, MinimumSamplePerArm: 100);

    [Fact]
    public void Equal_success_rates_looked_at_100_times_are_declared_different_at_most_5_percent_of_the_time()
    {
        var falsePositives = 0;
        const int experiments = 1_000;
        for (var e = 0; e < experiments; e++)
        {
            var verdicts = Run(new Random(1_000 + e), 0.5, 0.5, margin: 0, Bernoulli);
            falsePositives += verdicts.Any(v => v is ExperimentVerdict.CandidateBetter or ExperimentVerdict.CandidateWorse) ? 1 : 0;
        }
        var rate = (double)falsePositives / experiments;
        output.WriteLine($"success rate, null, 100 looks: false-positive rate {rate:P1} ({falsePositives}/{experiments})");
        rate.Should().BeLessThanOrEqualTo(0.05);
    }

    [Fact]
    public void Equal_high_success_rates_keep_the_false_positive_rate_at_most_5_percent()
    {
        var falsePositives = 0;
        const int experiments = 500;
        for (var e = 0; e < experiments; e++)
        {
            var verdicts = Run(new Random(50_000 + e), 0.95, 0.95, margin: 0, Bernoulli);
            falsePositives += verdicts.Any(v => v is ExperimentVerdict.CandidateBetter or ExperimentVerdict.CandidateWorse) ? 1 : 0;
        }
        var rate = (double)falsePositives / experiments;
        output.WriteLine($"success rate 95 %, null, 100 looks: false-positive rate {rate:P1} ({falsePositives}/{experiments})");
        rate.Should().BeLessThanOrEqualTo(0.05);
    }

    [Fact]
    public void Equal_satisfaction_looked_at_100_times_is_declared_different_at_most_5_percent_of_the_time()
    {
        var falsePositives = 0;
        const int experiments = 500;
        for (var e = 0; e < experiments; e++)
        {
            var verdicts = Run(new Random(90_000 + e), 3.5, 3.5, margin: 0, Rating, ExperimentMetric.Satisfaction);
            falsePositives += verdicts.Any(v => v is ExperimentVerdict.CandidateBetter or ExperimentVerdict.CandidateWorse) ? 1 : 0;
        }
        var rate = (double)falsePositives / experiments;
        output.WriteLine($"satisfaction, null, 100 looks: false-positive rate {rate:P1} ({falsePositives}/{experiments})");
        rate.Should().BeLessThanOrEqualTo(0.05);
    }

    [Fact]
    public void A_real_ten_point_improvement_is_found_and_never_called_worse()
    {
        var found = 0;
        var firstLooks = new List<int>();
        const int experiments = 200;
        for (var e = 0; e < experiments; e++)
        {
            var verdicts = Run(new Random(7_000 + e), 0.5, 0.6, margin: 0.02, Bernoulli);
            verdicts.Should().NotContain(ExperimentVerdict.CandidateWorse);
            var first = verdicts.IndexOf(ExperimentVerdict.CandidateBetter);
            if (first >= 0)
            {
                found++;
                firstLooks.Add((first + 1) * LookEvery);
            }
        }
        output.WriteLine($"+10 points: found in {found}/{experiments}, median subjects to verdict {firstLooks.Order().ElementAt(firstLooks.Count / 2)}");
        found.Should().BeGreaterThanOrEqualTo(experiments * 95 / 100);
    }

    [Fact]
    public void A_real_regression_is_called_worse()
    {
        var found = 0;
        const int experiments = 200;
        for (var e = 0; e < experiments; e++)
        {
            var verdicts = Run(new Random(8_000 + e), 0.9, 0.8, margin: 0.02, Bernoulli);
            verdicts.Should().NotContain(ExperimentVerdict.CandidateBetter);
            found += verdicts[^1] == ExperimentVerdict.CandidateWorse ? 1 : 0;
        }
        found.Should().BeGreaterThanOrEqualTo(experiments * 95 / 100);
    }

    [Fact]
    public void Equal_rates_with_a_six_point_margin_end_as_no_difference()
    {
        var noDifference = 0;
        const int experiments = 200;
        for (var e = 0; e < experiments; e++)
        {
            // At 10,000 subjects the half-width is about 0.030 and Δ̂ has sd 0.010: the interval fits in ±0.06 unless |Δ̂| > 0.03 (3 sd).
            var verdicts = Run(new Random(9_000 + e), 0.5, 0.5, margin: 0.06, Bernoulli);
            verdicts.Should().NotContain(v => v == ExperimentVerdict.CandidateBetter || v == ExperimentVerdict.CandidateWorse);
            noDifference += verdicts[^1] == ExperimentVerdict.NoDifference ? 1 : 0;
        }
        noDifference.Should().BeGreaterThanOrEqualTo(experiments * 95 / 100);
    }

    private static double Bernoulli(Random random, double rate) => random.NextDouble() < rate ? 1 : 0;

    // A rating from 1 to 5 with the given mean 3.5: 1, 2, 3, 4, 5 with probabilities 0.1, 0.1, 0.2, 0.3, 0.3.
    private static double Rating(Random random, double mean)
    {
        var u = random.NextDouble();
        return u < 0.1 ? 1 : u < 0.2 ? 2 : u < 0.4 ? 3 : u < 0.7 ? 4 : 5;
    }

    private static List<ExperimentVerdict> Run(Random random, double control, double candidate, double margin, Func<Random, double, double> draw, ExperimentMetric? metric = null)
    {
        metric ??= ExperimentMetric.SuccessRate;
        var arms = new (long N, double Sum, double Squares)[2];
        var verdicts = new List<ExperimentVerdict>(Subjects / LookEvery);
        for (var i = 1; i <= Subjects; i++)
        {
            var arm = random.NextDouble() < 0.5 ? 1 : 0;
            var x = draw(random, arm == 1 ? candidate : control);
            arms[arm] = (arms[arm].N + 1, arms[arm].Sum + x, arms[arm].Squares + x * x);
            if (i % LookEvery == 0)
            {
                var result = ExperimentAnalyzer.Compare(metric, new ArmSample(arms[0].N, arms[0].Sum, arms[0].Squares),
                    new ArmSample(arms[1].N, arms[1].Sum, arms[1].Squares), margin, Options);
                verdicts.Add(result.Verdict);
            }
        }
        return verdicts;
    }
}
