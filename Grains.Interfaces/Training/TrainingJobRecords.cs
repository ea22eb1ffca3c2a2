namespace ObjectaLabs.Orleans.Training;

/// <summary>
/// A training job's status, provider-neutral; the provider's own word is kept beside it
/// (<see cref="TrainingJobInfo.ProviderStatus"/>). Succeeded, failed and cancelled are final.
/// </summary>
public enum TrainingJobStatus
{
    /// <summary>Accepted: the dataset is frozen; files are being uploaded and the job submitted.</summary>
    Preparing = 0,
    /// <summary>The provider is checking the files.</summary>
    Validating = 1,
    /// <summary>Waiting for capacity at the provider.</summary>
    Queued = 2,
    /// <summary>Training.</summary>
    Running = 3,
    /// <summary>Finished; the model is in the registry.</summary>
    Succeeded = 4,
    /// <summary>Finished without a model; <see cref="TrainingJobInfo.Error"/> says why.</summary>
    Failed = 5,
    /// <summary>Cancel was asked for; the job is followed until the provider confirms.</summary>
    Cancelling = 6,
    /// <summary>Cancelled before it finished.</summary>
    Cancelled = 7,
}

public static class TrainingJobStatuses
{
    public static bool IsFinal(this TrainingJobStatus status) =>
        status is TrainingJobStatus.Succeeded or TrainingJobStatus.Failed or TrainingJobStatus.Cancelled;

    /// <summary>The word stored in <c>fine_tuning_jobs.status</c> and used in the API.</summary>
    public static string Name(this TrainingJobStatus status) => status switch
    {
        TrainingJobStatus.Preparing => "preparing",
        TrainingJobStatus.Validating => "validating",
        TrainingJobStatus.Queued => "queued",
        TrainingJobStatus.Running => "running",
        TrainingJobStatus.Succeeded => "succeeded",
        TrainingJobStatus.Failed => "failed",
        TrainingJobStatus.Cancelling => "cancelling",
        TrainingJobStatus.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static TrainingJobStatus? Parse(string? name) =>
        Enum.GetValues<TrainingJobStatus>().Cast<TrainingJobStatus?>().FirstOrDefault(s => string.Equals(s!.Value.Name(), name, StringComparison.Ordinal));
}

/// <summary>Hyperparameters a job asks for; null means the provider's <c>auto</c> or default.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.job-hyperparameters")]
public sealed record class JobHyperparameters(int? Epochs, int? BatchSize, double? LearningRateMultiplier, int? Evaluations);

/// <summary>A new training job, as the organization asks for it (the id comes from the caller, so a retried create is the same job).</summary>
/// <param name="Name">The model line: a retrain under the same name becomes the next version.</param>
/// <param name="ValidationRatio">The share of validated examples held out for validation (0 to 0.5), split by <paramref name="Seed"/>.</param>
[GenerateSerializer, Immutable, Alias("objectalabs.new-training-job")]
public sealed record class NewTrainingJob(
    string Name,
    string BaseModel,
    Guid? AgentId,
    string? Suffix,
    double ValidationRatio,
    int Seed,
    JobHyperparameters Hyperparameters,
    string CreatedBy);

/// <summary>Why a job failed: the provider's code and message, or ours; <see cref="Permanent"/> false means it gave up on a fault that persisted.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.job-error")]
public sealed record class JobError(string? Code, string Message, bool Permanent);

/// <summary>The frozen dataset of a job: which examples, split how, hashed how (SHA-256 of each file's bytes).</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.job-dataset")]
public sealed record class JobDataset(
    int TrainingExamples,
    int ValidationExamples,
    string TrainingSha256,
    string? ValidationSha256,
    long TrainingBytes,
    long ValidationBytes,
    string DatasetHash,
    double ValidationRatio,
    int Seed,
    string? SplitNote);

/// <summary>One training job as the API shows it.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.training-job")]
public sealed record class TrainingJobInfo(
    Guid Id,
    Guid OrganizationId,
    Guid? AgentId,
    string Name,
    string BaseModel,
    string Provider,
    string ProviderModel,
    TrainingJobStatus Status,
    string? ProviderStatus,
    string? ProviderJobId,
    string? TrainingFileId,
    string? ValidationFileId,
    JobDataset Dataset,
    JobHyperparameters Hyperparameters,
    string? Suffix,
    int EstimatedEpochs,
    long EstimatedTrainingTokens,
    CostFigure EstimatedCost,
    long? TrainedTokens,
    CostFigure? ActualCost,
    double? TrainingLoss,
    double? ValidationLoss,
    int? Step,
    int? TotalSteps,
    double? Progress,
    DateTimeOffset? EstimatedFinishAt,
    JobError? Error,
    bool CancelRequested,
    Guid? ModelId,
    int? ModelVersion,
    string? FineTunedModel,
    bool Simulated,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? LastPolledAt,
    DateTimeOffset? NextPollAt,
    int ConsecutivePollFailures,
    string? LastPollFailure);

/// <summary>One line of the organization's job list (read from the <c>fine_tuning_jobs</c> mirror).</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.training-job-summary")]
public sealed record class TrainingJobSummary(
    Guid Id,
    Guid? AgentId,
    string Name,
    string BaseModel,
    string Provider,
    TrainingJobStatus Status,
    string? ProviderJobId,
    string? FineTunedModel,
    Guid? ModelId,
    int TrainingExamples,
    int ValidationExamples,
    long? TrainedTokens,
    decimal? EstimatedCostUsd,
    decimal? ActualCostUsd,
    double? TrainingLoss,
    double? ValidationLoss,
    string? ErrorMessage,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? FinishedAt);

[GenerateSerializer, Immutable, Alias("objectalabs.training-job-page")]
public sealed record class TrainingJobPage(IReadOnlyList<TrainingJobSummary> Jobs, string? NextCursor);

[GenerateSerializer, Immutable, Alias("objectalabs.training-job-list-request")]
public sealed record class TrainingJobListRequest(TrainingJobStatus? Status, string? Cursor, int Limit);

/// <summary>One event of a job, numbered by us in arrival order (<see cref="Sequence"/> pages the list).</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.training-job-event")]
public sealed record class TrainingJobEvent(
    long Sequence,
    string ProviderEventId,
    DateTimeOffset CreatedAt,
    string Level,
    string Type,
    string Message,
    int? Step,
    int? TotalSteps,
    double? TrainLoss,
    double? ValidationLoss);

/// <summary>A checkpoint the provider kept during training (OpenAI keeps the last epochs'; the sandbox simulates them).</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.training-checkpoint")]
public sealed record class TrainingCheckpoint(string Id, DateTimeOffset CreatedAt, int Step, string? Model, double? TrainLoss, double? ValidationLoss);

[GenerateSerializer, Immutable, Alias("objectalabs.training-job-event-page")]
public sealed record class TrainingJobEventPage(IReadOnlyList<TrainingJobEvent> Events, long? NextAfter);

/// <summary>What an estimate is asked for: the same choices as a job, plus optional traffic for the projection.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.training-estimate-request")]
public sealed record class TrainingEstimateRequest(
    string BaseModel,
    Guid? AgentId,
    double ValidationRatio,
    int Seed,
    JobHyperparameters Hyperparameters,
    ProjectionInput? Projection,
    bool ProviderQuote = false);

/// <summary>The estimate of a job on today's validated examples, the split it would use and, when traffic was given, the projection.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.training-estimate")]
public sealed record class TrainingEstimate(
    TrainingCostEstimate Estimate,
    int TrainingExamples,
    int ValidationExamples,
    string? SplitNote,
    CostProjection? Projection);

/// <summary>
/// One training job, keyed by our job id. It freezes its dataset when it starts, then advances on an Orleans
/// reminder (durable across silo crashes): upload, submit exactly once, poll until the provider's final word,
/// register the model. Every call names the organization; another organization's job is answered as not found.
/// </summary>
[Alias("objectalabs.ITrainingJobGrain")]
public interface ITrainingJobGrain : IGrainWithGuidKey
{
    /// <summary>Starts the job (called by the organization's <see cref="ITrainingJobsGrain"/>, after its checks). Idempotent for the same request.</summary>
    [Alias("start")]
    Task<TrainingJobInfo> StartAsync(Guid organizationId, NewTrainingJob request);

    [Alias("get"), global::Orleans.Concurrency.AlwaysInterleave]
    Task<TrainingJobInfo> GetAsync(Guid organizationId);

    /// <summary>Events after <paramref name="after"/> (a <see cref="TrainingJobEvent.Sequence"/>), oldest first.</summary>
    [Alias("events"), global::Orleans.Concurrency.AlwaysInterleave]
    Task<TrainingJobEventPage> ListEventsAsync(Guid organizationId, long? after, int limit);

    [Alias("checkpoints"), global::Orleans.Concurrency.AlwaysInterleave]
    Task<IReadOnlyList<TrainingCheckpoint>> ListCheckpointsAsync(Guid organizationId);

    /// <summary>Asks for the job to stop; a final job refuses with a conflict.</summary>
    [Alias("cancel")]
    Task<TrainingJobInfo> CancelAsync(Guid organizationId);

    /// <summary>Advances the job now instead of at the next reminder tick (operators, tests); a no-op on a final job.</summary>
    [Alias("advance")]
    Task<TrainingJobInfo> AdvanceAsync(Guid organizationId);
}

/// <summary>
/// An organization's training desk, keyed by the organization id: it checks a new job against the catalog and the
/// plan one request at a time (so two creates cannot both take the last model slot), estimates, and lists jobs.
/// </summary>
[Alias("objectalabs.ITrainingJobsGrain")]
public interface ITrainingJobsGrain : IGrainWithGuidKey
{
    [Alias("create")]
    Task<TrainingJobInfo> CreateAsync(Guid jobId, NewTrainingJob request);

    [Alias("estimate"), global::Orleans.Concurrency.AlwaysInterleave]
    Task<TrainingEstimate> EstimateAsync(TrainingEstimateRequest request);

    [Alias("list"), global::Orleans.Concurrency.AlwaysInterleave]
    Task<TrainingJobPage> ListAsync(TrainingJobListRequest request);
}
