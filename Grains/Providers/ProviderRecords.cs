namespace ObjectaLabs.Orleans.Providers;

/// <summary>Where and as whom a provider is called: the platform's key from configuration, or an Enterprise organization's own.</summary>
public sealed record class ProviderAccount(string Provider, string? ApiKey, Uri BaseUrl, string? OrganizationId = null)
{
    /// <summary>Never print the key.</summary>
    public override string ToString() => $"{Provider} at {BaseUrl}";
}

/// <summary>A file the provider holds.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.provider-file")]
public sealed record class ProviderFile(string Id, string FileName, long Bytes, DateTimeOffset? CreatedAt);

/// <summary>Our job's status, provider-neutral; the provider's own word is kept beside it in <see cref="ProviderJob.RawStatus"/>.</summary>
public enum ProviderJobStatus
{
    /// <summary>A status we do not know: kept, never crashed on; the job keeps being followed.</summary>
    Unknown = 0,
    Validating = 1,
    Queued = 2,
    Running = 3,
    Succeeded = 4,
    Failed = 5,
    Cancelled = 6,
}

/// <summary>Hyperparameters; null means the provider's <c>auto</c> or default.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.hyperparameters")]
public sealed record class Hyperparameters(
    int? Epochs,
    int? BatchSize,
    double? LearningRateMultiplier,
    double? LearningRate,
    bool? Lora,
    int? LoraRank,
    int? LoraAlpha,
    double? LoraDropout,
    int? Evaluations);

/// <summary>What a job asks the provider for.</summary>
public sealed record class ProviderJobRequest(
    string Reference,
    string ProviderModel,
    string TrainingFileId,
    string? ValidationFileId,
    string? Suffix,
    int? Seed,
    Hyperparameters Hyperparameters,
    long TrainingTokens,
    long ValidationTokens);

/// <summary>A provider's job, as read from its answer (fields the provider omits are null).</summary>
public sealed record class ProviderJob(
    string Id,
    string RawStatus,
    ProviderJobStatus Status,
    string? FineTunedModel,
    long? TrainedTokens,
    string? ErrorCode,
    string? ErrorMessage,
    DateTimeOffset? CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    DateTimeOffset? EstimatedFinish,
    int? Step,
    int? TotalSteps,
    decimal? ProviderCostUsd,
    string? Reference);

/// <summary>One provider event; <see cref="TrainLoss"/> and <see cref="ValidationLoss"/> are set on metrics events.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.provider-event")]
public sealed record class ProviderEvent(
    string Id,
    DateTimeOffset CreatedAt,
    string Level,
    string Type,
    string Message,
    int? Step,
    int? TotalSteps,
    double? TrainLoss,
    double? ValidationLoss);

public sealed record class ProviderEventPage(IReadOnlyList<ProviderEvent> Events, string? NextCursor);

[GenerateSerializer, Immutable, Alias("objectalabs.provider-checkpoint")]
public sealed record class ProviderCheckpoint(
    string Id,
    DateTimeOffset CreatedAt,
    int Step,
    string? Model,
    double? TrainLoss,
    double? ValidationLoss);

public sealed record class ProviderPriceEstimate(decimal? TotalUsd, long? TrainTokens, long? EvalTokens, bool AllowedToProceed);

/// <summary>How a provider call failed: the job grain retries transient faults and fails the job on permanent ones.</summary>
public enum ProviderFaultKind
{
    /// <summary>429, 5xx, timeout, a malformed answer: try again later.</summary>
    Transient = 0,
    /// <summary>An invalid request or file, an unknown model: the job fails with the provider's message.</summary>
    Permanent = 1,
    /// <summary>The key may not fine-tune (OpenAI's wind-down, a revoked key): the job fails and says so.</summary>
    PermissionDenied = 2,
    /// <summary>The provider does not know the job or file.</summary>
    NotFound = 3,
}

public sealed class ProviderException(ProviderFaultKind kind, string provider, string message, int? httpStatus = null, string? code = null, TimeSpan? retryAfter = null, Exception? inner = null)
    : Exception(message, inner)
{
    public ProviderFaultKind Kind { get; } = kind;
    public string Provider { get; } = provider;
    public int? HttpStatus { get; } = httpStatus;
    public string? Code { get; } = code;
    public TimeSpan? RetryAfter { get; } = retryAfter;
    public bool IsTransient => Kind == ProviderFaultKind.Transient;
}
