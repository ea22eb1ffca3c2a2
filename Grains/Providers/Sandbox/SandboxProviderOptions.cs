using System.ComponentModel.DataAnnotations;

namespace ObjectaLabs.Orleans.Providers.Sandbox;

/// <summary>
/// <c>Providers:Sandbox</c>: the simulated provider's accelerated clock. A job validates, queues, then runs
/// <c>epochs × StepsPerEpoch</c> steps of <see cref="StepDuration"/> each. Suffix switches: a suffix containing
/// <c>simulate-fail</c> fails the job half way with a simulated provider message; <c>simulate-slow</c> makes
/// every phase <see cref="SlowFactor"/> times longer.
/// </summary>
public sealed class SandboxProviderOptions
{
    public const string Section = "Providers:Sandbox";

    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan ValidatingDuration { get; set; } = TimeSpan.FromSeconds(2);

    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan QueuedDuration { get; set; } = TimeSpan.FromSeconds(3);

    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan StepDuration { get; set; } = TimeSpan.FromMilliseconds(500);

    [Range(1, 1000)]
    public int StepsPerEpoch { get; set; } = 10;

    /// <summary>Epochs when the job asks for <c>auto</c>.</summary>
    [Range(1, 50)]
    public int DefaultEpochs { get; set; } = 3;

    [Range(1, 1000)]
    public int SlowFactor { get; set; } = 20;
}
