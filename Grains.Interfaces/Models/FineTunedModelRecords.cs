namespace ObjectaLabs.Orleans.Models;

/// <summary>
/// A fine-tuned model's lifecycle; each status says what resolution does with the model. Moves: active ⇄ deprecated,
/// either → archived, archived → active (restored), any → deleted (final); retired is set only by the model itself when
/// its base model's shutdown date arrives, and leads only to deleted.
/// </summary>
public enum ModelStatus
{
    /// <summary>Served.</summary>
    Active = 0,
    /// <summary>Still served, with a warning; it cannot become a new default or a new deployment.</summary>
    Deprecated = 1,
    /// <summary>Not served: traffic goes to the fallback. Can be restored.</summary>
    Archived = 2,
    /// <summary>Gone for good: not served, not restorable; the record stays for reports.</summary>
    Deleted = 3,
    /// <summary>Its base model was shut down by the provider: not served (traffic goes to the fallback), not restorable.</summary>
    Retired = 4,
}

/// <summary>What resolution and the registry may do with a model in each status.</summary>
public static class ModelStatusRules
{
    /// <summary>True when resolution may send traffic to the model.</summary>
    public static bool Serves(this ModelStatus status) => status is ModelStatus.Active or ModelStatus.Deprecated;

    /// <summary>True when the model may become a default or be newly deployed.</summary>
    public static bool Deployable(this ModelStatus status) => status == ModelStatus.Active;

    /// <summary>The statuses a caller may move a model to from <paramref name="from"/>.</summary>
    public static IReadOnlyList<ModelStatus> AllowedMoves(this ModelStatus from) => from switch
    {
        ModelStatus.Active => [ModelStatus.Deprecated, ModelStatus.Archived, ModelStatus.Deleted],
        ModelStatus.Deprecated => [ModelStatus.Active, ModelStatus.Archived, ModelStatus.Deleted],
        ModelStatus.Archived => [ModelStatus.Active, ModelStatus.Deleted],
        ModelStatus.Retired => [ModelStatus.Deleted],
        _ => [],
    };

    public static string Name(this ModelStatus status) => status.ToString().ToLowerInvariant();
}

/// <summary>A change to a model's name, description or status; null leaves a field as it is.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.model-update")]
public sealed record class ModelUpdate(string? Name, string? Description, ModelStatus? Status);

/// <summary>
/// A model as the spec's model card shows it: the model, whether it is the organization's default, its warnings
/// (deprecated, base model shutting down in 30 or 7 days, retired) and this month's usage.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.model-card")]
public sealed record class ModelCard(FineTunedModelInfo Model, bool IsDefault, IReadOnlyList<string> Warnings, ModelUsageThisMonth Usage);

/// <summary>
/// A model's usage this month (UTC, from <see cref="Since"/>) as the runtime reported it: requests, cost at the catalog's
/// fine-tuned prices, mean satisfaction (null before the first rating) and how many ratings it is the mean of. Figures
/// trail the reports by a few seconds.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.model-usage-month")]
public sealed record class ModelUsageThisMonth(DateTimeOffset Since, long Requests, decimal CostUsd, double? Satisfaction, long Ratings);

/// <summary>Whether a fine-tuned model can answer requests now, apart from its status.</summary>
public enum ServingState
{
    /// <summary>It answers: served per token by its provider, or its dedicated endpoint is up.</summary>
    Ready = 0,
    /// <summary>Its provider serves it only on a dedicated endpoint, and none is running: resolution falls back.</summary>
    NoEndpoint = 1,
    /// <summary>Its dedicated endpoint is starting: resolution falls back until it is ready.</summary>
    EndpointStarting = 2,
}

/// <summary>
/// A model's serving state: <see cref="Dedicated"/> when its provider serves fine-tunes only on a dedicated endpoint (then
/// the endpoint's name and state are recorded here), since when the state holds.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.model-serving")]
public sealed record class ModelServing(ServingState State, bool Dedicated, string? Endpoint, DateTimeOffset Since)
{
    public const int MaxEndpointLength = 200;

    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsReady => State == ServingState.Ready;
}

/// <summary>Records a dedicated endpoint's state for a model (what the provider's endpoint reports, or the sandbox simulates).</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.serving-update")]
public sealed record class ServingUpdate(ServingState State, string? Endpoint);

/// <summary>What a finished training job hands the registry, once.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.model-registration")]
public sealed record class ModelRegistration(
    Guid OrganizationId,
    Guid JobId,
    Guid? AgentId,
    string Name,
    int Version,
    string Provider,
    string ProviderModelId,
    string BaseModel,
    string DatasetHash,
    int TrainingExamples,
    int ValidationExamples,
    bool Simulated,
    DateTimeOffset TrainedAt);

/// <summary>A fine-tuned model as the registry holds it.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.fine-tuned-model")]
public sealed record class FineTunedModelInfo(
    Guid Id,
    Guid OrganizationId,
    Guid JobId,
    Guid? AgentId,
    string Name,
    int Version,
    string? Description,
    string Provider,
    string ProviderModelId,
    string BaseModel,
    ModelStatus Status,
    DateOnly? ShutdownDate,
    string DatasetHash,
    int TrainingExamples,
    int ValidationExamples,
    bool Simulated,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? RetiredAt = null,
    ModelServing? Serving = null)
{
    /// <summary>Ready unless recorded otherwise (models registered before serving states existed were serverless).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public ModelServing ServingNow => Serving ?? new ModelServing(ServingState.Ready, false, null, CreatedAt);
}
