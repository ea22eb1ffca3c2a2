using ObjectaLabs.Orleans.Training;

namespace ObjectaLabs.Orleans.Training.Jobs;

/// <summary>
/// A job grain's stored state, immutable: every change is a new value, kept only once its write succeeded
/// (so a refused or failed write leaves the old value in memory, and reads may interleave with a tick).
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.training-job-state")]
public sealed record class TrainingJobState
{
    [Id(0)] public TrainingJobInfo? Job { get; init; }

    /// <summary>The request the job started from: a repeated start with the same request answers the job.</summary>
    [Id(1)] public NewTrainingJob? Request { get; init; }

    /// <summary>Set and written before the provider is asked to create the job: after a crash, look the job up by our id before creating again.</summary>
    [Id(2)] public bool SubmitIntent { get; init; }

    /// <summary>The provider's event cursor: events after it are new.</summary>
    [Id(3)] public string? EventCursor { get; init; }

    /// <summary>When the current run of transient faults began (null: the last attempt succeeded).</summary>
    [Id(4)] public DateTimeOffset? FaultingSince { get; init; }

    /// <summary>Whether the provider was asked to cancel already.</summary>
    [Id(5)] public bool CancelSent { get; init; }

    [Id(6)] public IReadOnlyList<TrainingCheckpoint> Checkpoints { get; init; } = [];

    /// <summary>The mirror row lags the state (its write failed): written again at the next tick.</summary>
    [Id(7)] public bool MirrorStale { get; init; }
}
