using ObjectaLabs.Orleans.Deployment;
using ObjectaLabs.Orleans.Experiments;

namespace ObjectaLabs.Orleans.Tests.Experiments;

public sealed class ConfidenceSequenceTests
{
    private static readonly ExperimentOptions Options = new(Alpha: 0.05, TuningSamples: 5_000, MinimumSamplePerArm: 100);

    [Fact]
    public void Rho2_is_tuned_for_the_tuning_sample()
    {
        // −2 ln 0.05 = 5.991465; ln(1 + 5.991465) = 1.944691; (5.991465 + 1.944691) / 5000 = 0.001587231
        ConfidenceSequence.Rho2(0.05, 5_000).Should().BeApproximately(0.001587231, 1e-9);
    }

    [Fact]
    public void Success_rates_500_of_1000_and_600_of_1000_give_the_hand_computed_interval_and_candidate_better()
    {
        // control: x̄ = 0.5, Σ(x − x̄)² = 500 − 1000 × 0.25 = 250; + one pseudo-observation of ((1 − 0)/2)² = 0.25
        //          s² = 250.25 / 1000 = 0.25025
        // candidate: x̄ = 0.6, Σ(x − x̄)² = 600 − 1000 × 0.36 = 240; s² = 240.25 / 1000 = 0.24025
        // V̂ = 0.24025/1000 + 0.25025/1000 = 0.0004905;  n = 2000;  nρ² = 3.1744618
        // unit = sqrt(2 × 4.1744618 / (2000² × 0.001587231) × ln(sqrt(4.1744618) / 0.05))
        //      = sqrt(8.3489237 / 6348.9237 × ln(40.863)) = sqrt(0.00131502 × 3.710225) = 0.0698498
        // half-width = sqrt(2000 × 0.0004905) × 0.0698498 = 0.990454 × 0.0698498 = 0.0691831
        // Δ̂ = 0.1: interval [0.0308169, 0.1691831], wholly above the 0.02 margin.
        var result = ExperimentAnalyzer.Compare(ExperimentMetric.SuccessRate, new ArmSample(1000, 500, 500), new ArmSample(1000, 600, 600), 0.02, Options);

        result.Difference.Should().BeApproximately(0.1, 1e-12);
        result.Lower.Should().BeApproximately(0.0308169, 1e-6);
        result.Upper.Should().BeApproximately(0.1691831, 1e-6);
        result.Verdict.Should().Be(ExperimentVerdict.CandidateBetter);
        (result.ControlMean, result.CandidateMean, result.ControlCount, result.CandidateCount).Should().Be((0.5, 0.6, 1000L, 1000L));
    }

    [Fact]
    public void The_same_rates_at_100_per_arm_straddle_the_margin_and_say_not_enough_data()
    {
        // s² = 25.25/100 = 0.2525 and 24.25/100 = 0.2425; V̂ = 0.00495; n = 200; nρ² = 0.3174462
        // unit = sqrt(2 × 1.3174462 / (40000 × 0.001587231) × ln(sqrt(1.3174462)/0.05)) = sqrt(0.0414995 × 3.133711) = 0.3606216
        // half-width = sqrt(200 × 0.00495) × 0.3606216 = 0.994987 × 0.3606216 = 0.3588140 → [−0.258814, 0.458814]
        var result = ExperimentAnalyzer.Compare(ExperimentMetric.SuccessRate, new ArmSample(100, 50, 50), new ArmSample(100, 60, 60), 0.02, Options);

        result.Lower.Should().BeApproximately(-0.258814, 1e-6);
        result.Upper.Should().BeApproximately(0.458814, 1e-6);
        result.Verdict.Should().Be(ExperimentVerdict.NotEnoughData);
        result.Reason.Should().Contain("crosses");
    }

    [Fact]
    public void Satisfaction_ratings_give_the_hand_computed_interval()
    {
        // control: 100 ratings of 3 and 100 of 4: Σx = 700, Σx² = 2500, x̄ = 3.5, Σ(x − x̄)² = 2500 − 200 × 12.25 = 50
        //          + one pseudo-observation of ((5 − 1)/2)² = 4 → s² = 54/200 = 0.27
        // candidate: 100 of 4 and 100 of 5: Σx = 900, Σx² = 4100, x̄ = 4.5, Σ(x − x̄)² = 50 → s² = 0.27
        // V̂ = 0.27/200 × 2 = 0.0027; n = 400; nρ² = 0.6348924
        // unit = sqrt(2 × 1.6348924 / (160000 × 0.001587231) × ln(sqrt(1.6348924)/0.05)) = sqrt(0.0128750 × 3.2415208) = 0.2042932
        // half-width = sqrt(400 × 0.0027) × 0.2042932 = 1.0392305 × 0.2042932 = 0.2123077 → [0.787692, 1.212308]
        var result = ExperimentAnalyzer.Compare(ExperimentMetric.Satisfaction, new ArmSample(200, 700, 2500), new ArmSample(200, 900, 4100), 0.25, Options);

        result.Difference.Should().BeApproximately(1.0, 1e-12);
        result.Lower.Should().BeApproximately(0.787692, 1e-6);
        result.Upper.Should().BeApproximately(1.212308, 1e-6);
        result.Verdict.Should().Be(ExperimentVerdict.CandidateBetter);
    }

    [Theory]
    [InlineData(0.03, 0.09, 0.02, ExperimentVerdict.CandidateBetter)]
    [InlineData(-0.09, -0.03, 0.02, ExperimentVerdict.CandidateWorse)]
    [InlineData(-0.015, 0.018, 0.02, ExperimentVerdict.NoDifference)]
    [InlineData(-0.02, 0.02, 0.02, ExperimentVerdict.NoDifference)]
    [InlineData(0.01, 0.05, 0.02, ExperimentVerdict.NotEnoughData)]
    [InlineData(-0.05, -0.01, 0.02, ExperimentVerdict.NotEnoughData)]
    [InlineData(-0.05, 0.05, 0.02, ExperimentVerdict.NotEnoughData)]
    [InlineData(0.02, 0.05, 0.02, ExperimentVerdict.NotEnoughData)] // touching +margin is not "wholly above"
    public void Verdict_reads_the_interval_against_the_margin_band(double lower, double upper, double margin, ExperimentVerdict verdict) =>
        ExperimentAnalyzer.Judge(500, 500, lower, upper, margin, 100).Verdict.Should().Be(verdict);

    [Fact]
    public void Verdict_waits_for_the_minimum_sample_in_each_arm_even_when_the_interval_is_clear()
    {
        ExperimentAnalyzer.Judge(99, 5_000, 0.3, 0.4, 0.02, 100).Verdict.Should().Be(ExperimentVerdict.NotEnoughData);
        ExperimentAnalyzer.Judge(100, 5_000, 0.3, 0.4, 0.02, 100).Verdict.Should().Be(ExperimentVerdict.CandidateBetter);
    }

    [Fact]
    public void An_arm_with_no_data_gives_no_interval()
    {
        var result = ExperimentAnalyzer.Compare(ExperimentMetric.SuccessRate, ArmSample.Empty, new ArmSample(10, 5, 5), 0.02, Options);
        (result.Difference, result.Lower, result.Upper).Should().Be(((double?)null, (double?)null, (double?)null));
        result.Verdict.Should().Be(ExperimentVerdict.NotEnoughData);
    }

    [Fact]
    public void Arms_that_saw_only_successes_still_get_an_interval_of_nonzero_width()
    {
        // Both arms 200 of 200: the sample variance is 0, which would give a zero-width interval and an
        // instant "no difference". With one pseudo-observation of ((1 − 0)/2)² = 0.25 per arm:
        // s² = 0.25/200 = 0.00125; V̂ = 2 × 0.00125/200 = 0.0000125; n = 400; unit = 0.2042932 (as above)
        // half-width = sqrt(400 × 0.0000125) × 0.2042932 = 0.0707107 × 0.2042932 = 0.0144457
        var result = ExperimentAnalyzer.Compare(ExperimentMetric.SuccessRate, new ArmSample(200, 200, 200), new ArmSample(200, 200, 200), 0.01, Options);

        result.Lower.Should().BeApproximately(-0.0144457, 1e-6);
        result.Upper.Should().BeApproximately(0.0144457, 1e-6);
        result.Verdict.Should().Be(ExperimentVerdict.NotEnoughData);
    }

    [Fact]
    public void Observations_outside_the_metrics_range_are_refused()
    {
        var compare = () => ExperimentAnalyzer.Compare(ExperimentMetric.Satisfaction, new ArmSample(10, 5, 5), new ArmSample(10, 40, 160), 0.1, Options);
        compare.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("control");
    }

    [Fact]
    public void A_negative_margin_is_refused()
    {
        var compare = () => ExperimentAnalyzer.Compare(ExperimentMetric.SuccessRate, new ArmSample(10, 5, 5), new ArmSample(10, 5, 5), -0.1, Options);
        compare.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("margin");
    }
}
