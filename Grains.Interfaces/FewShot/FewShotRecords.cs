using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.FewShot;

/// <summary>
/// How an agent's few-shot examples are chosen per request: the most relevant by a ranked text index over the user's
/// message (<see cref="Lexical"/>, embedded, no external service), the nearest by embedding vectors from an
/// OpenAI-compatible embeddings endpoint (<see cref="Embedding"/>, when one is configured), or the admin's fixed list
/// (<see cref="Fixed"/>).
/// </summary>
public enum FewShotMode
{
    Lexical = 0,
    Fixed = 1,
    Embedding = 2,
}

/// <summary>How a chosen example enters the prompt: as its chat turns, or as text through the template's example pattern.</summary>
public enum FewShotFormat
{
    Chat = 0,
    Text = 1,
}

/// <summary>Which resolved models get the examples: base models only (a fine-tune already learned them), or every model.</summary>
public enum FewShotApplyTo
{
    BaseModels = 0,
    AllModels = 1,
}

/// <summary>
/// An agent's few-shot template: the system instructions (<see cref="Prefix"/>), how an example is rendered
/// (<see cref="Format"/>; for text, <see cref="ExamplePattern"/> with <c>{question}</c> and <c>{answer}</c>), the text
/// after the examples (<see cref="Suffix"/>, text format, with <c>{input}</c>), how many examples (<see cref="K"/>),
/// the most tokens the examples may take (<see cref="TokenBudget"/>, counted with the resolved model's tokenizer), the
/// selection mode and, for <see cref="FewShotMode.Fixed"/>, the examples in order.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.few-shot-template")]
public sealed record class FewShotTemplate(
    FewShotMode Mode,
    FewShotFormat Format,
    string Prefix,
    string ExamplePattern,
    string Suffix,
    int K,
    int TokenBudget,
    IReadOnlyList<Guid> ExampleIds,
    FewShotApplyTo ApplyTo,
    DateTimeOffset UpdatedAt)
{
    public const int MaxK = 20;
    public const int MaxTokenBudget = 32_000;
    public const int MaxTextLength = 8_000;
    public const string DefaultExamplePattern = "Question: {question}\nAnswer: {answer}";
    public const string DefaultSuffix = "Question: {input}\nAnswer:";
}

/// <summary>One example chosen for a request: its id, relevance score (lexical: BM25; fixed: none), tags, chat turns and tokens as rendered.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.chosen-example")]
public sealed record class ChosenExample(Guid Id, double? Score, IReadOnlyList<string> Tags, IReadOnlyList<PromptMessage> Messages, int Tokens);

/// <summary>A chat message of an assembled prompt.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.prompt-message")]
public sealed record class PromptMessage(string Role, string Content);

/// <summary>
/// What selection answered: the examples (best first), where they came from (the agent's own examples, or the
/// organization's when the agent has none), and the assembled prompt: <see cref="Messages"/> (system, example turns,
/// the user's message) and, for the text format, <see cref="Prompt"/>; tokens of the examples and of the whole prompt.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.few-shot-selection")]
public sealed record class FewShotSelection(
    FewShotMode Mode,
    string Pool,
    TokenizerKind Tokenizer,
    IReadOnlyList<ChosenExample> Examples,
    int ExampleTokens,
    int TokenBudget,
    IReadOnlyList<PromptMessage> Messages,
    string? Prompt,
    int PromptTokens,
    int Candidates,
    int SkippedNearDuplicates,
    int SkippedOverBudget);

/// <summary>
/// A selection request: the agent, the user's current message, the template, the resolved model's base model (its
/// tokenizer counts), and what to answer: the chosen examples' turns, the assembled messages, or both.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.few-shot-request")]
public sealed record class FewShotRequest(Guid AgentId, string Message, FewShotTemplate Template, string? BaseModel, bool WithExampleTurns = true, bool WithMessages = true);

/// <summary>One request's answer in a batch: its selection, or the problem that refused it (the others still answer).</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.few-shot-outcome")]
public sealed record class FewShotOutcome(FewShotSelection? Selection, ProblemException? Problem);

/// <summary>An evaluation's settings: how many validated examples to hold out (each one's question is a query against the rest), k, and the agent (null: the organization's).</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.few-shot-evaluation-request")]
public sealed record class FewShotEvaluationRequest(Guid? AgentId, int HoldOut, int K, int Seed)
{
    public const int MaxHoldOut = 1_000;
}

/// <summary>One mode's figures: recall@k (held-out queries whose selection holds an example sharing a tag), mean tokens added, and the queries counted.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.few-shot-mode-evaluation")]
public sealed record class FewShotModeEvaluation(string Mode, double RecallAtK, double MeanExampleTokens, int Queries);

/// <summary>An evaluation's answer: per mode (lexical, and a random selection as the floor), over the held-out tagged examples.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.few-shot-evaluation")]
public sealed record class FewShotEvaluation(int Examples, int HeldOut, int K, IReadOnlyList<FewShotModeEvaluation> Modes);

/// <summary>
/// One organization's selectable examples (key: organization id): its validated examples held in memory in a ranked
/// text index (BM25), loaded on first use and kept current by every change to the organization's examples.
/// </summary>
[Alias("objectalabs.IExampleIndexGrain")]
public interface IExampleIndexGrain : IGrainWithGuidKey
{
    /// <summary>Chooses the examples for a request and assembles the prompt.</summary>
    [Alias("select"), global::Orleans.Concurrency.AlwaysInterleave]
    Task<FewShotSelection> SelectAsync(FewShotRequest request);

    /// <summary>
    /// Chooses for many requests at once (lexical and fixed templates), one outcome per request in their order: what
    /// each API process sends when requests arrive faster than one call at a time carries them.
    /// </summary>
    [Alias("select-many"), global::Orleans.Concurrency.AlwaysInterleave]
    Task<IReadOnlyList<FewShotOutcome>> SelectManyAsync(IReadOnlyList<FewShotRequest> requests);

    /// <summary>
    /// Told after examples changed (created, edited, validated, redacted, deleted): each is read again and kept only
    /// when it is validated. Nothing happens when the index is not loaded.
    /// </summary>
    [Alias("changed"), global::Orleans.Concurrency.OneWay]
    Task ExamplesChangedAsync(IReadOnlyList<Guid> exampleIds);

    /// <summary>
    /// Loads the index now (and, for the embedding mode, embeds the examples), so the first request of an agent whose
    /// template was just set does not wait for it. One-way.
    /// </summary>
    [Alias("warm"), global::Orleans.Concurrency.OneWay, global::Orleans.Concurrency.AlwaysInterleave]
    Task WarmAsync(bool withVectors);

    /// <summary>Which of <paramref name="exampleIds"/> are not validated examples of this organization (for a fixed template).</summary>
    [Alias("missing")]
    Task<IReadOnlyList<Guid>> MissingAsync(IReadOnlyList<Guid> exampleIds);

    /// <summary>Held-out recall@k of lexical selection against a random selection.</summary>
    [Alias("evaluate")]
    Task<FewShotEvaluation> EvaluateAsync(FewShotEvaluationRequest request);
}
