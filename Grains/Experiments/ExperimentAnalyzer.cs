using MathNet.Numerics;
using ObjectaLabs.Orleans.Deployment;

namespace ObjectaLabs.Orleans.Experiments;

/// <summary>
/// An experiment's verdicts: for each metric an anytime-valid confidence sequence for candidate − control
/// (<see cref="ConfidenceSequence"/>) read against the margin band, and a sample-ratio mismatch check.
/// </summary>
/// <remarks>
/// Verdict at a look, with interval [L, U] and margin δ ≥ 0: not enough data below the minimum sample per arm;
/// candidate better when L &gt; +δ; candidate worse when U &lt; −δ; no difference when −δ ≤ L and U ≤ +δ; not
/// enough data otherwise. Since the interval covers the true difference at every look with probability 1 − α,
/// "better" or "worse" is wrongly declared with probability at most α over the whole experiment.
/// The variance of each arm is estimated with one added pseudo-observation of the largest variance the metric's
/// range allows, ((max − min) / 2)²: an arm that has only seen one value yet does not get a zero-width interval;
/// the effect vanishes as samples grow.
/// </remarks>
public static class ExperimentAnalyzer
{
    /// <summary>Success rate, satisfaction and the sample-ratio check from two arms' usage totals.</summary>
    public static ExperimentAnalysis Analyze(UsageTotals control, UsageTotals candidate, double candidateShare, double successMargin, double satisfactionMargin, ExperimentOptions? options = null)
    {
        options ??= ExperimentOptions.Default;
        return new ExperimentAnalysis(
            Compare(ExperimentMetric.SuccessRate, control.SuccessSample, candidate.SuccessSample, successMargin, options),
            Compare(ExperimentMetric.Satisfaction, control.SatisfactionSample, candidate.SatisfactionSample, satisfactionMargin, options),
            CheckSampleRatio(control.Requests, candidate.Requests, candidateShare, options.SampleRatioPValue));
    }

    /// <summary>One metric's comparison of candidate against control, with margin <paramref name="margin"/> in the metric's own unit.</summary>
    public static MetricComparison Compare(ExperimentMetric metric, ArmSample control, ArmSample candidate, double margin, ExperimentOptions? options = null)
    {
        options ??= ExperimentOptions.Default;
        options.Validate();
        if (!(margin >= 0) || double.IsInfinity(margin))
        {
            throw new ArgumentOutOfRangeException(nameof(margin), margin, "The margin must be a finite number ≥ 0.");
        }
        CheckSample(control, metric, nameof(control));
        CheckSample(candidate, metric, nameof(candidate));
        if (control.Count == 0 || candidate.Count == 0)
        {
            return new MetricComparison(metric.Name, control.Count, candidate.Count, control.Mean, candidate.Mean, null, null, null, margin, options.Alpha,
                ExperimentVerdict.NotEnoughData, "An arm has no observations yet.");
        }

        var difference = candidate.Mean!.Value - control.Mean!.Value;
        var variance = Variance(candidate, metric) / candidate.Count + Variance(control, metric) / control.Count;
        var n = (double)(control.Count + candidate.Count);
        var halfWidth = ConfidenceSequence.HalfWidth(variance, n, options.Alpha, ConfidenceSequence.Rho2(options.Alpha, options.TuningSamples));
        var lower = difference - halfWidth;
        var upper = difference + halfWidth;
        var (verdict, reason) = Judge(control.Count, candidate.Count, lower, upper, margin, options.MinimumSamplePerArm);
        return new MetricComparison(metric.Name, control.Count, candidate.Count, control.Mean, candidate.Mean, difference, lower, upper, margin, options.Alpha, verdict, reason);
    }

    /// <summary>The four-way verdict for an interval [<paramref name="lower"/>, <paramref name="upper"/>] against ±<paramref name="margin"/>.</summary>
    public static (ExperimentVerdict Verdict, string Reason) Judge(long controlCount, long candidateCount, double lower, double upper, double margin, long minimumSamplePerArm)
    {
        if (controlCount < minimumSamplePerArm || candidateCount < minimumSamplePerArm)
        {
            return (ExperimentVerdict.NotEnoughData, $"Each arm needs at least {minimumSamplePerArm} observations (control {controlCount}, candidate {candidateCount}).");
        }
        if (lower > margin)
        {
            return (ExperimentVerdict.CandidateBetter, "The whole interval lies above +margin.");
        }
        if (upper < -margin)
        {
            return (ExperimentVerdict.CandidateWorse, "The whole interval lies below −margin.");
        }
        if (lower >= -margin && upper <= margin)
        {
            return (ExperimentVerdict.NoDifference, "The whole interval lies within ±margin.");
        }
        return (ExperimentVerdict.NotEnoughData, "The interval still crosses an edge of the margin band.");
    }

    /// <summary>
    /// Pearson's chi-square test of the observed counts against the configured split (one degree of freedom):
    /// χ² = Σ (observed − expected)² / expected, p = P(χ²₁ ≥ χ²) = Q(1/2, χ²/2) (the regularized upper incomplete
    /// gamma function). Flags a mismatch when p &lt; <paramref name="threshold"/> (0.001 by default: at 10,000 subjects a
    /// 50/50 split is flagged beyond about 5,165/4,835).
    /// </summary>
    public static SampleRatioCheck CheckSampleRatio(long controlCount, long candidateCount, double candidateShare, double threshold = 0.001)
    {
        if (!(candidateShare >= 0 && candidateShare <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(candidateShare), candidateShare, "The candidate's share must be between 0 and 1.");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(controlCount);
        ArgumentOutOfRangeException.ThrowIfNegative(candidateCount);
        var total = controlCount + candidateCount;
        if (total == 0)
        {
            return new SampleRatioCheck(0, 0, candidateShare, null, 0, 1, threshold, false);
        }
        var observedShare = (double)candidateCount / total;
        var expectedCandidate = total * candidateShare;
        var expectedControl = total - expectedCandidate;
        if (expectedCandidate == 0 || expectedControl == 0)
        {
            // A 0 % or 100 % split: any subject in the empty arm is a mismatch, with certainty.
            var stray = expectedCandidate == 0 ? candidateCount : controlCount;
            return new SampleRatioCheck(controlCount, candidateCount, candidateShare, observedShare, stray > 0 ? double.PositiveInfinity : 0, stray > 0 ? 0 : 1, threshold, stray > 0);
        }
        var chiSquare = Square(candidateCount - expectedCandidate) / expectedCandidate + Square(controlCount - expectedControl) / expectedControl;
        var p = SpecialFunctions.GammaUpperRegularized(0.5, chiSquare / 2);
        return new SampleRatioCheck(controlCount, candidateCount, candidateShare, observedShare, chiSquare, p, threshold, p < threshold);
    }

    private static double Variance(ArmSample sample, ExperimentMetric metric)
    {
        var mean = sample.Sum / sample.Count;
        var squares = Math.Max(0, sample.SumOfSquares - sample.Count * mean * mean);
        var widest = Square((metric.Maximum - metric.Minimum) / 2);
        return (squares + widest) / sample.Count; // (Σ(x − x̄)² + one widest pseudo-observation) / ((n + 1) − 1)
    }

    private static void CheckSample(ArmSample sample, ExperimentMetric metric, string name)
    {
        if (sample.Count < 0 || sample.Sum < metric.Minimum * sample.Count - 1e-9 || sample.Sum > metric.Maximum * sample.Count + 1e-9)
        {
            throw new ArgumentOutOfRangeException(name, sample, $"The {metric.Name} observations must lie in [{metric.Minimum}, {metric.Maximum}].");
        }
    }

    private static double Square(double x) => x * x;
}
