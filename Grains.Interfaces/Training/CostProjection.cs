namespace ObjectaLabs.Orleans.Training;

/// <summary>
/// A month of traffic for the projection: requests per month, mean input and output tokens per request, and for
/// the few-shot alternative the number of examples put in every prompt and their mean tokens.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.projection-input")]
public sealed record class ProjectionInput(
    long MonthlyRequests,
    decimal AverageInputTokens,
    decimal AverageOutputTokens,
    int FewShotExamples,
    decimal AverageExampleTokens);

/// <summary>What the fine-tuned model saves per month against an alternative, and the month its training cost is paid back.</summary>
/// <param name="MonthlySaving">Alternative's monthly cost − the fine-tuned model's (negative: the fine-tuned model costs more).</param>
/// <param name="BreakEvenMonth">The first month at whose end the savings cover the training cost (⌈training ÷ saving⌉, at least 1); null when never or unknown.</param>
/// <param name="Note">Why there is no break-even month, when there is none.</param>
[GenerateSerializer, Immutable, Alias("objectalabs.projection-saving")]
public sealed record class ProjectedSaving(CostFigure MonthlySaving, int? BreakEvenMonth, string? Note);

/// <summary>
/// Monthly inference cost on the base model, on the fine-tuned model and with few-shot prompting on the base model,
/// and the fine-tuned model's saving and break-even against each alternative.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.cost-projection")]
public sealed record class CostProjection(
    string BaseModel,
    ProjectionInput Input,
    CostFigure TrainingCost,
    CostFigure BaseMonthly,
    CostFigure FineTunedMonthly,
    CostFigure FewShotMonthly,
    ProjectedSaving VersusFewShot,
    ProjectedSaving VersusBase);
