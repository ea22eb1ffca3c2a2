using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Training.Cost;

/// <summary>
/// The spec's projection (section 9): for a month of traffic, what the base model, the fine-tuned model and
/// few-shot prompting on the base model cost, and when the training cost is paid back.
/// </summary>
/// <remarks>
/// Per month, with R requests of I input and O output tokens on average, prices per 1M tokens, and k few-shot
/// examples of E tokens on average:
/// <code>
/// base      = R × (I × baseInput + O × baseOutput) ÷ 1M
/// fineTuned = R × (I × fineTunedInput + O × fineTunedOutput) ÷ 1M
/// fewShot   = R × ((I + k × E) × baseInput + O × baseOutput) ÷ 1M
/// saving    = alternative − fineTuned;   break-even month = max(1, ⌈training cost ÷ saving⌉) when saving &gt; 0
/// </code>
/// A price the catalog does not know makes every figure that needs it unknown, with the reason.
/// </remarks>
public static class CostProjector
{
    public static CostProjection Project(BaseModel model, ProjectionInput input, CostFigure trainingCost)
    {
        Check(input);
        var prices = model.Prices;
        var baseMonthly = Monthly(input.MonthlyRequests, input.AverageInputTokens, input.AverageOutputTokens, prices.BaseInput, prices.BaseOutput,
            $"The catalog has no base inference price for {model.Id}.");
        var fineTunedMonthly = Monthly(input.MonthlyRequests, input.AverageInputTokens, input.AverageOutputTokens, prices.FineTunedInput, prices.FineTunedOutput,
            $"The catalog has no fine-tuned inference price for {model.Id}.");
        var fewShotInput = input.AverageInputTokens + input.FewShotExamples * input.AverageExampleTokens;
        var fewShotMonthly = Monthly(input.MonthlyRequests, fewShotInput, input.AverageOutputTokens, prices.BaseInput, prices.BaseOutput,
            $"The catalog has no base inference price for {model.Id}.");
        return new CostProjection(model.Id, input, trainingCost, baseMonthly, fineTunedMonthly, fewShotMonthly,
            Saving(fewShotMonthly, fineTunedMonthly, trainingCost, "few-shot prompting"),
            Saving(baseMonthly, fineTunedMonthly, trainingCost, "the base model"));
    }

    /// <summary>The first month at whose end <paramref name="monthlySaving"/> × months ≥ <paramref name="trainingCost"/>; null when the saving is not positive.</summary>
    public static int? BreakEvenMonth(decimal trainingCost, decimal monthlySaving)
    {
        if (monthlySaving <= 0)
        {
            return null;
        }
        var months = Math.Ceiling(trainingCost / monthlySaving);
        return months > int.MaxValue ? null : Math.Max(1, (int)months);
    }

    private static ProjectedSaving Saving(CostFigure alternative, CostFigure fineTuned, CostFigure trainingCost, string what)
    {
        var saving = alternative.Minus(fineTuned);
        if (saving.Usd is not { } perMonth)
        {
            return new ProjectedSaving(saving, null, saving.UnknownReason);
        }
        if (perMonth <= 0)
        {
            return new ProjectedSaving(saving, null, $"Never: the fine-tuned model costs as much as or more than {what} per month.");
        }
        if (trainingCost.Usd is not { } training)
        {
            return new ProjectedSaving(saving, null, trainingCost.UnknownReason);
        }
        var month = BreakEvenMonth(training, perMonth);
        return new ProjectedSaving(saving, month, month is null ? "Not within any foreseeable number of months." : null);
    }

    private static CostFigure Monthly(long requests, decimal inputTokens, decimal outputTokens, decimal? inputPrice, decimal? outputPrice, string unknown) =>
        inputPrice is { } inPrice && outputPrice is { } outPrice
            ? CostFigure.Known(requests * (inputTokens * inPrice + outputTokens * outPrice) / 1_000_000m)
            : CostFigure.Unknown(unknown);

    private static void Check(ProjectionInput input)
    {
        if (input.MonthlyRequests < 0)
        {
            throw ProblemException.Invalid("monthlyRequests", "Monthly requests cannot be negative.");
        }
        if (input.AverageInputTokens < 0)
        {
            throw ProblemException.Invalid("averageInputTokens", "Average input tokens cannot be negative.");
        }
        if (input.AverageOutputTokens < 0)
        {
            throw ProblemException.Invalid("averageOutputTokens", "Average output tokens cannot be negative.");
        }
        if (input.FewShotExamples < 0)
        {
            throw ProblemException.Invalid("fewShotExamples", "The number of few-shot examples cannot be negative.");
        }
        if (input.AverageExampleTokens < 0)
        {
            throw ProblemException.Invalid("averageExampleTokens", "Average example tokens cannot be negative.");
        }
    }
}
