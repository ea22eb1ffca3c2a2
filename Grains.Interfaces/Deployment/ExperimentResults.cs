namespace ObjectaLabs.Orleans.Deployment;

/// <summary>Sufficient statistics of one arm for one metric: count, sum and sum of squares of the observations.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.arm-sample")]
public sealed record class ArmSample(long Count, double Sum, double SumOfSquares)
{
    public static ArmSample Empty { get; } = new(0, 0, 0);

    /// <summary>The mean; null when empty.</summary>
    public double? Mean => Count == 0 ? null : Sum / Count;

    public ArmSample Merge(ArmSample other) => new(Count + other.Count, Sum + other.Sum, SumOfSquares + other.SumOfSquares);
}

/// <summary>What an experiment's comparison says about the candidate against control.</summary>
public enum ExperimentVerdict
{
    /// <summary>Below the minimum sample per arm, or the interval still crosses an edge of the margin band.</summary>
    NotEnoughData = 0,
    /// <summary>The whole interval lies above +margin.</summary>
    CandidateBetter = 1,
    /// <summary>The whole interval lies below −margin.</summary>
    CandidateWorse = 2,
    /// <summary>The whole interval lies within ±margin.</summary>
    NoDifference = 3,
}

/// <summary>
/// One metric's comparison of candidate against control: both means, their difference (candidate − control),
/// the anytime-valid confidence interval for it at this look, and the verdict. Means and bounds are null
/// until both arms have data.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.metric-comparison")]
public sealed record class MetricComparison(
    string Metric,
    long ControlCount,
    long CandidateCount,
    double? ControlMean,
    double? CandidateMean,
    double? Difference,
    double? Lower,
    double? Upper,
    double Margin,
    double Alpha,
    ExperimentVerdict Verdict,
    string Reason);

/// <summary>
/// Sample-ratio mismatch check: the observed subjects per arm against the configured split (Pearson's
/// chi-square, one degree of freedom); <see cref="Mismatch"/> when its p-value is below the threshold.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.sample-ratio-check")]
public sealed record class SampleRatioCheck(
    long ControlCount,
    long CandidateCount,
    double ConfiguredCandidateShare,
    double? ObservedCandidateShare,
    double ChiSquare,
    double PValue,
    double Threshold,
    bool Mismatch);

/// <summary>An experiment's results at one look: success rate, satisfaction and the sample-ratio check.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.experiment-analysis")]
public sealed record class ExperimentAnalysis(MetricComparison SuccessRate, MetricComparison Satisfaction, SampleRatioCheck SampleRatio);

/// <summary>
/// An experiment's results at one look: each arm's usage (requests the fallback served are counted apart, never in their arm),
/// success rate and satisfaction compared (anytime-valid: looking as often as one likes keeps the error rate), and the split
/// checked against the configured one (over requests assigned to each arm, fallback-served included). The satisfaction margin
/// is the experiment's margin times the rating scale's width (4), so a margin of 0.02 is 0.08 of a star.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.experiment-results")]
public sealed record class ExperimentResults(
    Guid ExperimentId,
    ExperimentStatus Status,
    ModelChoice Control,
    ModelChoice Candidate,
    double CandidateShare,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    ObjectaLabs.Orleans.Usage.UsageMetrics ControlMetrics,
    ObjectaLabs.Orleans.Usage.UsageMetrics CandidateMetrics,
    long ControlServedByFallback,
    long CandidateServedByFallback,
    ExperimentAnalysis Analysis);

/// <summary>The verdicts an experiment ended with (kept with it when it is stopped or promoted).</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.experiment-outcome")]
public sealed record class ExperimentOutcome(
    ExperimentVerdict SuccessRate,
    ExperimentVerdict Satisfaction,
    bool SampleRatioMismatch,
    long ControlRequests,
    long CandidateRequests,
    bool Forced)
{
    public static ExperimentOutcome Of(ExperimentAnalysis analysis, bool forced) => new(
        analysis.SuccessRate.Verdict, analysis.Satisfaction.Verdict, analysis.SampleRatio.Mismatch,
        analysis.SuccessRate.ControlCount, analysis.SuccessRate.CandidateCount, forced);
}
