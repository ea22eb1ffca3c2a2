using ObjectaLabs.Orleans.Experiments;

namespace ObjectaLabs.Orleans.Tests.Experiments;

public sealed class SampleRatioTests
{
    [Fact]
    public void A_5300_to_4700_split_of_a_50_50_experiment_is_a_mismatch()
    {
        // expected 5000 each: χ² = 300²/5000 + 300²/5000 = 36; p = erfc(sqrt(36/2)) = 1.97e-9 < 0.001
        var check = ExperimentAnalyzer.CheckSampleRatio(controlCount: 5_300, candidateCount: 4_700, candidateShare: 0.5);
        check.ChiSquare.Should().BeApproximately(36, 1e-9);
        check.PValue.Should().BeApproximately(1.9731753e-9, 1e-15);
        check.Mismatch.Should().BeTrue();
        check.ObservedCandidateShare.Should().BeApproximately(0.47, 1e-12);
    }

    [Fact]
    public void A_5050_to_4950_split_of_a_50_50_experiment_is_fair()
    {
        // χ² = 50²/5000 × 2 = 1; p = erfc(sqrt(1/2)) = 0.3173105
        var check = ExperimentAnalyzer.CheckSampleRatio(5_050, 4_950, 0.5);
        check.ChiSquare.Should().BeApproximately(1, 1e-9);
        check.PValue.Should().BeApproximately(0.3173105, 1e-6);
        check.Mismatch.Should().BeFalse();
    }

    [Fact]
    public void An_uneven_configured_split_is_tested_against_its_own_expectation()
    {
        // 20 % candidate of 10,000: expected 2000/8000. Observed 2000/8000 is fair; 1800/8200 gives
        // χ² = 200²/2000 + 200²/8000 = 20 + 5 = 25, p = erfc(sqrt(12.5)) = 5.73e-7: a mismatch.
        ExperimentAnalyzer.CheckSampleRatio(8_000, 2_000, 0.2).Mismatch.Should().BeFalse();
        var skewed = ExperimentAnalyzer.CheckSampleRatio(8_200, 1_800, 0.2);
        skewed.ChiSquare.Should().BeApproximately(25, 1e-9);
        skewed.PValue.Should().BeApproximately(5.7330e-7, 1e-10);
        skewed.Mismatch.Should().BeTrue();
    }

    [Fact]
    public void The_threshold_sits_at_p_0_001()
    {
        // χ²₁ at p = 0.001 is 10.828: 5165/4835 gives χ² = 10.89 (flagged), 5164/4836 gives 10.76 (not).
        ExperimentAnalyzer.CheckSampleRatio(5_165, 4_835, 0.5).Mismatch.Should().BeTrue();
        ExperimentAnalyzer.CheckSampleRatio(5_164, 4_836, 0.5).Mismatch.Should().BeFalse();
    }

    [Fact]
    public void No_subjects_is_no_mismatch() =>
        ExperimentAnalyzer.CheckSampleRatio(0, 0, 0.5).Mismatch.Should().BeFalse();

    [Fact]
    public void Any_subject_in_an_arm_configured_to_get_none_is_a_mismatch()
    {
        ExperimentAnalyzer.CheckSampleRatio(1_000, 1, 0.0).Mismatch.Should().BeTrue();
        ExperimentAnalyzer.CheckSampleRatio(1_000, 0, 0.0).Mismatch.Should().BeFalse();
    }
}
