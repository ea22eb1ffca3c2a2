namespace ObjectaLabs.Orleans.Experiments;

/// <summary>
/// The asymptotic confidence sequence of Waudby-Smith, Arnold, Wu, Howard, Ramdas, "Time-uniform central limit
/// theory and asymptotic confidence sequences" (Annals of Statistics, 2024; arXiv:2103.06476), built on the
/// two-sided normal-mixture boundary of Howard, Ramdas, McAuliffe, Sekhon, "Time-uniform, nonparametric,
/// nonasymptotic confidence sequences" (Annals of Statistics, 2021). GrowthBook's sequential testing uses the
/// same boundary for the difference of two means.
/// </summary>
/// <remarks>
/// For the difference of means Δ = μ_candidate − μ_control after n = n_control + n_candidate observations:
/// <code>
/// Δ̂ = x̄_candidate − x̄_control
/// V̂ = s²_candidate / n_candidate + s²_control / n_control          (s² = the sample variance)
/// halfWidth(n) = sqrt(n · V̂) · sqrt( 2(nρ² + 1) / (n² ρ²) · ln( sqrt(nρ² + 1) / α ) )
/// ρ² = ( −2 ln α + ln(1 − 2 ln α) ) / N*                           (N* = the tuning sample size)
/// </code>
/// With probability at least 1 − α (asymptotically) the intervals Δ̂ ± halfWidth(n) contain Δ at every n at
/// once, so they may be looked at after every observation and acted on whenever they exclude a value.
/// ρ² makes the interval narrowest near n = N*; any choice keeps the guarantee.
/// </remarks>
public static class ConfidenceSequence
{
    /// <summary>ρ² tuned so the interval is narrowest around <paramref name="tuningSamples"/> observations.</summary>
    public static double Rho2(double alpha, double tuningSamples)
    {
        var twoLog = -2 * Math.Log(alpha);
        return (twoLog + Math.Log(1 + twoLog)) / tuningSamples;
    }

    /// <summary>The boundary for unit variance: the half-width of the interval for a mean of <paramref name="n"/> observations with σ = 1.</summary>
    public static double UnitHalfWidth(double n, double alpha, double rho2)
    {
        var nr = n * rho2;
        return Math.Sqrt(2 * (nr + 1) / (n * n * rho2) * Math.Log(Math.Sqrt(nr + 1) / alpha));
    }

    /// <summary>The half-width for a difference of means with estimated variance <paramref name="varianceOfDifference"/> (V̂) after <paramref name="n"/> observations in both arms.</summary>
    public static double HalfWidth(double varianceOfDifference, double n, double alpha, double rho2) =>
        Math.Sqrt(n * varianceOfDifference) * UnitHalfWidth(n, alpha, rho2);
}
