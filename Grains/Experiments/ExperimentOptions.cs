namespace ObjectaLabs.Orleans.Experiments;

/// <summary>
/// How an experiment's results are judged. <see cref="Alpha"/> is the error allowed over the whole experiment,
/// however often it is looked at; <see cref="TuningSamples"/> (both arms together) is where the interval is
/// narrowest; <see cref="MinimumSamplePerArm"/> holds every verdict back until each arm has that many
/// observations of the metric; <see cref="SampleRatioPValue"/> is the p-value below which the split is flagged.
/// </summary>
public sealed record class ExperimentOptions(
    double Alpha = 0.05,
    double TuningSamples = 5_000,
    long MinimumSamplePerArm = 100,
    double SampleRatioPValue = 0.001)
{
    public static ExperimentOptions Default { get; } = new();

    public void Validate()
    {
        if (!(Alpha > 0 && Alpha < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "Alpha must be in (0, 1).");
        }
        if (!(TuningSamples >= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(TuningSamples), TuningSamples, "The tuning sample size must be at least 1.");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(MinimumSamplePerArm, 2, nameof(MinimumSamplePerArm));
        if (!(SampleRatioPValue > 0 && SampleRatioPValue < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(SampleRatioPValue), SampleRatioPValue, "The mismatch p-value must be in (0, 1).");
        }
    }
}

/// <summary>A metric the analyzer compares and the range its observations are bounded to.</summary>
public sealed record class ExperimentMetric(string Name, double Minimum, double Maximum)
{
    /// <summary>Success (1) or failure (0) of each request.</summary>
    public static ExperimentMetric SuccessRate { get; } = new("successRate", 0, 1);

    /// <summary>Satisfaction ratings from 1 to 5.</summary>
    public static ExperimentMetric Satisfaction { get; } = new("satisfaction", 1, 5);
}
