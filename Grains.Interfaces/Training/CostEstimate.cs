namespace ObjectaLabs.Orleans.Training;

/// <summary>An amount in USD, or unknown with the reason: a price we do not know is never shown as 0.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.cost-figure")]
public sealed record class CostFigure(decimal? Usd, string? UnknownReason)
{
    public static CostFigure Zero { get; } = new(0m, null);

    public bool IsKnown => Usd is not null;

    public static CostFigure Known(decimal usd) => new(usd, null);

    public static CostFigure Unknown(string reason) => new(null, reason);

    /// <summary>The sum; unknown when either part is (naming the first unknown part's reason).</summary>
    public CostFigure Plus(CostFigure other) =>
        Usd is { } a && other.Usd is { } b ? Known(a + b) : Unknown(UnknownReason ?? other.UnknownReason!);

    /// <summary>The difference; unknown when either part is.</summary>
    public CostFigure Minus(CostFigure other) =>
        Usd is { } a && other.Usd is { } b ? Known(a - b) : Unknown(UnknownReason ?? other.UnknownReason!);
}

/// <summary>How a provider bills the validation set.</summary>
public enum ValidationBilling
{
    /// <summary>Validation tokens are free (OpenAI).</summary>
    NotBilled = 0,
    /// <summary>Each evaluation pass over the validation set is billed as training tokens (Together: n_evals × validation tokens).</summary>
    PerEvaluation = 1,
}

/// <summary>The provider's own estimate (Together's <c>estimate-price</c>), shown beside ours.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.provider-cost-quote")]
public sealed record class ProviderCostQuote(
    string Provider,
    decimal? TotalUsd,
    long? TrainTokens,
    long? EvalTokens,
    bool AllowedToProceed);

/// <summary>
/// A training job's cost before it runs. Billable training tokens = <see cref="Epochs"/> × Σ min(limit, tokens of each
/// training example); validation tokens are billed only where the provider bills them. Every figure is an estimate
/// (<see cref="IsEstimate"/>; <see cref="Notes"/> say why); the provider's own quote, when it gave one, sits beside it.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.training-cost-estimate")]
public sealed record class TrainingCostEstimate(
    string BaseModel,
    string Provider,
    int TrainingExamples,
    int ValidationExamples,
    int Epochs,
    bool EpochsAuto,
    int? ExampleTokenLimit,
    int TruncatedExamples,
    long TrainingTokensPerEpoch,
    long BillableTrainingTokens,
    long ValidationTokens,
    int Evaluations,
    ValidationBilling ValidationBilling,
    long BillableValidationTokens,
    decimal? TrainingPricePerMillion,
    CostFigure TrainingCost,
    CostFigure ValidationCost,
    CostFigure TotalCost,
    bool ApproximateTokens,
    bool IsEstimate,
    IReadOnlyList<string> Notes,
    ProviderCostQuote? ProviderQuote)
{
    /// <summary>Mean tokens of a training example (after truncation), what a few-shot prompt pays per example; 0 when there are none.</summary>
    public decimal AverageTrainingExampleTokens => TrainingExamples == 0 ? 0m : (decimal)TrainingTokensPerEpoch / TrainingExamples;
}
