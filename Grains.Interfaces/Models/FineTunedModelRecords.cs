namespace ObjectaLabs.Orleans.Models;

/// <summary>A fine-tuned model's lifecycle; each status says what resolution does with the model.</summary>
public enum ModelStatus
{
    /// <summary>Served.</summary>
    Active = 0,
    /// <summary>Still served, flagged in listings; new deployments are discouraged.</summary>
    Deprecated = 1,
    /// <summary>Not served: traffic goes to the fallback. Can be restored.</summary>
    Archived = 2,
    /// <summary>Gone for good: not served, not restorable; the record stays for reports.</summary>
    Deleted = 3,
}

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
    DateTimeOffset UpdatedAt);
