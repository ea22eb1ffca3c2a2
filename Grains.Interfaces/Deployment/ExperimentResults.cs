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
