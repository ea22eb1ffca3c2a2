using System.Text.Json.Serialization;

namespace ObjectaLabs.Orleans.Catalog;

/// <summary>Which tokenizer counts a model's tokens; <see cref="Approximate"/> means no exact tokenizer is available.</summary>
public enum TokenizerKind
{
    // Named on the wire as in models.json and in tiktoken.
    [JsonStringEnumMemberName("o200k_base")] O200kBase = 0,
    [JsonStringEnumMemberName("cl100k_base")] Cl100kBase = 1,
    [JsonStringEnumMemberName("approximate")] Approximate = 2,
}

/// <summary>
/// How the provider serves fine-tunes of a model: <see cref="Serverless"/> (per token, ready when training ends) or only on
/// a <see cref="DedicatedEndpoint"/> the customer starts and pays by the minute (Together, Fireworks), so a registered
/// model may not be able to answer yet.
/// </summary>
public enum FineTunedServing
{
    Serverless = 0,
    DedicatedEndpoint = 1,
}

/// <summary>USD per 1M tokens; null means the figure is not published in our sources (unknown, not free).</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.model-prices")]
public sealed record class ModelPrices(
    decimal? Training,
    decimal? BaseInput,
    decimal? BaseOutput,
    decimal? FineTunedInput,
    decimal? FineTunedCachedInput,
    decimal? FineTunedOutput);

/// <summary>One base model of the catalog (<c>Data/models.json</c>); null limits are unknown; <see cref="NewJobsUntil"/> is the provider's last day for new fine-tuning jobs.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.model")]
public sealed record class BaseModel(
    string Id,
    string Provider,
    string ProviderModel,
    bool FineTunable,
    TokenizerKind Tokenizer,
    int? ContextTokens,
    int? MaxTrainingExampleTokens,
    ModelPrices Prices,
    DateOnly? ShutdownDate,
    string? Notes,
    DateOnly? NewJobsUntil = null,
    FineTunedServing FineTunedServing = FineTunedServing.Serverless)
{
    /// <summary>True once the provider has shut the model down.</summary>
    public bool IsShutDown(DateOnly today) => ShutdownDate is { } date && date <= today;

    /// <summary>True while the provider still accepts new fine-tuning jobs on this model (the last day included).</summary>
    public bool AcceptsNewJobs(DateOnly today) => FineTunable && !IsShutDown(today) && (NewJobsUntil is not { } last || today <= last);
}
