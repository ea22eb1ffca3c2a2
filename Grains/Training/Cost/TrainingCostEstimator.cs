using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Training.Cost;

/// <summary>
/// What a fine-tuning job will cost, before it is submitted: tokens counted with the base model's tokenizer,
/// each example truncated at the model's training-example limit, times the epochs, times the catalog's
/// training price per 1M tokens, plus the validation passes where the provider bills them.
/// </summary>
public static class TrainingCostEstimator
{
    /// <summary>Epochs a provider accepts at most (OpenAI's published range is 1–50).</summary>
    public const int MaxEpochs = 50;

    private const int TargetEpochs = 3;
    private const int MinTargetExamples = 100;
    private const int MaxTargetExamples = 25_000;
    private const int MinDefaultEpochs = 1;
    private const int MaxDefaultEpochs = 25;

    /// <summary>
    /// The epochs OpenAI's <c>n_epochs: "auto"</c> is documented to pick (OpenAI cookbook, chat fine-tuning data
    /// preparation): 3; if n × 3 &lt; 100, min(25, ⌊100 ÷ n⌋); if n × 3 &gt; 25,000, max(1, ⌊25,000 ÷ n⌋).
    /// </summary>
    public static int AutoEpochs(int trainingExamples)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(trainingExamples, 1);
        var passes = 3L * trainingExamples;
        if (passes < MinTargetExamples)
        {
            return Math.Min(MaxDefaultEpochs, MinTargetExamples / trainingExamples);
        }
        return passes > MaxTargetExamples ? Math.Max(MinDefaultEpochs, MaxTargetExamples / trainingExamples) : TargetEpochs;
    }

    /// <summary>How the provider bills validation tokens (Together bills each evaluation pass; OpenAI and the sandbox do not).</summary>
    public static ValidationBilling BillingOf(string provider) =>
        string.Equals(provider, "together", StringComparison.OrdinalIgnoreCase) ? ValidationBilling.PerEvaluation : ValidationBilling.NotBilled;

    /// <summary>
    /// The estimate. <paramref name="epochs"/> null is <c>auto</c>, resolved with <see cref="AutoEpochs"/> (for a provider
    /// with no <c>auto</c>, such as Together, submit <see cref="TrainingCostEstimate.Epochs"/> so the job runs what was
    /// estimated); <paramref name="evaluations"/> null is the provider's default of 0.
    /// </summary>
    public static TrainingCostEstimate Estimate(BaseModel model, DatasetTokenCounts counts, int? epochs, int? evaluations = null, ProviderCostQuote? providerQuote = null)
    {
        if (counts.Training.Count == 0)
        {
            throw ProblemException.Invalid("trainingExamples", "A training job needs at least one training example.");
        }
        if (epochs is < 1 or > MaxEpochs)
        {
            throw ProblemException.Invalid("hyperparameters.epochs", $"Epochs must be between 1 and {MaxEpochs}, or auto.");
        }
        if (evaluations is < 0)
        {
            throw ProblemException.Invalid("hyperparameters.evaluations", "The number of evaluations cannot be negative.");
        }

        var notes = new List<string>();
        var limit = model.MaxTrainingExampleTokens;
        var (trainingTokens, truncatedTraining) = Sum(counts.Training, limit);
        var (validationTokens, truncatedValidation) = Sum(counts.Validation, limit);
        var usedEpochs = epochs ?? AutoEpochs(counts.Training.Count);
        var billing = BillingOf(model.Provider);
        var passes = evaluations ?? 0;
        var billableTraining = usedEpochs * trainingTokens;
        var billableValidation = billing == ValidationBilling.PerEvaluation ? passes * validationTokens : 0;

        if (epochs is null)
        {
            notes.Add($"Epochs are auto: {usedEpochs} for {counts.Training.Count} examples, by OpenAI's documented heuristic; the provider's own choice may differ.");
        }
        if (counts.Approximate)
        {
            notes.Add($"{model.Id} has no exact tokenizer here: token counts use o200k_base and are approximate.");
        }
        if (limit is null)
        {
            notes.Add($"{model.Id}'s training-example token limit is unknown: no example was truncated in this estimate.");
        }
        else if (truncatedTraining + truncatedValidation > 0)
        {
            notes.Add($"{truncatedTraining + truncatedValidation} examples exceed {limit} tokens and are counted truncated, as the provider trains on them.");
        }
        if (billing == ValidationBilling.NotBilled && counts.Validation.Count > 0)
        {
            notes.Add($"{model.Provider} does not bill validation tokens.");
        }

        var price = model.Prices.Training;
        var unknown = $"The catalog has no training price for {model.Id}" + (model.Notes is { Length: > 0 } why ? $": {why}" : ".");
        var trainingCost = billableTraining == 0 ? CostFigure.Zero : Priced(billableTraining, price, unknown);
        var validationCost = billableValidation == 0 ? CostFigure.Zero : Priced(billableValidation, price, unknown);
        notes.Add("Counts follow OpenAI's per-message accounting; the provider reports the tokens it actually trained on when the job ends.");

        return new TrainingCostEstimate(
            model.Id, model.Provider, counts.Training.Count, counts.Validation.Count, usedEpochs, epochs is null, limit,
            truncatedTraining + truncatedValidation, trainingTokens, billableTraining, validationTokens, passes, billing,
            billableValidation, price, trainingCost, validationCost, trainingCost.Plus(validationCost), counts.Approximate,
            IsEstimate: true, notes, providerQuote);
    }

    /// <summary>The actual cost of a finished job from the tokens the provider reports it trained on.</summary>
    public static CostFigure ActualCost(BaseModel model, long trainedTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(trainedTokens);
        return Priced(trainedTokens, model.Prices.Training, $"The catalog has no training price for {model.Id}.");
    }

    /// <summary>tokens × price ÷ 1,000,000, exact in decimal; unknown when the price is.</summary>
    public static CostFigure Priced(long tokens, decimal? pricePerMillion, string unknownReason) =>
        pricePerMillion is { } price ? CostFigure.Known(tokens * price / 1_000_000m) : CostFigure.Unknown(unknownReason);

    private static (long Tokens, int Truncated) Sum(IReadOnlyList<int> counts, int? limit)
    {
        long total = 0;
        var truncated = 0;
        foreach (var count in counts)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(count, nameof(counts));
            if (limit is { } max && count > max)
            {
                total += max;
                truncated++;
            }
            else
            {
                total += count;
            }
        }
        return (total, truncated);
    }
}
