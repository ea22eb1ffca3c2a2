using System.Text.RegularExpressions;
using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Export;
using ObjectaLabs.Orleans.Models;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Plans;
using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Providers;
using ObjectaLabs.Orleans.Providers.Accounts;
using ObjectaLabs.Orleans.Text;
using ObjectaLabs.Orleans.Tokens;
using ObjectaLabs.Orleans.Training.Cost;

namespace ObjectaLabs.Orleans.Training.Jobs;

/// <summary>An organization's training desk (see <see cref="ITrainingJobsGrain"/>).</summary>
public sealed partial class TrainingJobsGrain(
    TrainingJobRows rows,
    BaseModelCatalog catalog,
    TokenizerCache tokenizers,
    ProviderAccounts accounts,
    IEnumerable<IFineTuningProvider> providers,
    TimeProvider clock,
    ILogger<TrainingJobsGrain> logger) : Grain, ITrainingJobsGrain
{
    public const int MaxNameLength = 200;
    public const int MaxSuffixLength = 40;
    public const int MaxBatchSize = 1024;
    public const double MaxLearningRateMultiplier = 10;
    public const int MaxEvaluations = 100;
    private static readonly TimeSpan QuoteTimeout = TimeSpan.FromSeconds(15);

    private Guid OrganizationId => this.GetPrimaryKey();

    public async Task<TrainingJobInfo> CreateAsync(Guid jobId, NewTrainingJob request)
    {
        var name = request.Name?.Trim() ?? "";
        if (name.Length is 0 or > MaxNameLength)
        {
            throw ProblemException.Invalid("name", $"'name' is required: the model line's name, 1 to {MaxNameLength} characters.");
        }
        if (!StorableText.IsStorable(name) || !StorableText.IsStorable(request.CreatedBy))
        {
            throw ProblemException.Invalid("name", "'name' holds a character that cannot be stored (NUL or an unpaired surrogate).");
        }
        CheckSuffix(request.Suffix);
        var (model, plan) = await CheckChoicesAsync(request.BaseModel, request.AgentId, request.ValidationRatio, request.Hyperparameters);

        // One create at a time per organization (this grain is not reentrant), so two cannot both take the last slot.
        if (plan.MaxFineTunedModels is { } allowed)
        {
            var models = (await GrainFactory.GetGrain<IModelRegistryGrain>(OrganizationId).ListModelIdsAsync()).Count;
            var inFlight = await rows.CountInFlightAsync(OrganizationId);
            if (models + inFlight + 1 > allowed)
            {
                throw PlanLimits.Exceeded(plan, "maxFineTunedModels", allowed, models + inFlight, 1,
                    $"The {plan.DisplayName} plan allows {allowed} fine-tuned models; the organization has {models} and {inFlight} training. " +
                    "Archive a model or upgrade the plan.");
            }
        }
        // Refuses when neither the platform nor the organization holds a key for the provider (sandbox always works).
        await accounts.ResolveAsync(OrganizationId, model.Provider);
        return await GrainFactory.GetGrain<ITrainingJobGrain>(jobId).StartAsync(OrganizationId, request with { Name = name, BaseModel = model.Id });
    }

    public async Task<TrainingEstimate> EstimateAsync(TrainingEstimateRequest request)
    {
        var (model, _) = await CheckChoicesAsync(request.BaseModel, request.AgentId, request.ValidationRatio, request.Hyperparameters);
        var examples = await rows.ReadValidatedAsync(OrganizationId, request.AgentId);
        if (examples.Count == 0)
        {
            throw new ProblemException(ProblemKind.Validation, "No validated examples",
                "There are no validated examples to estimate on" + (request.AgentId is null ? "." : " for this agent.") +
                " Validate examples first; a job needs at least " + TrainValidationSplit.MinTrainingExamples + ".", "examples");
        }
        var dataset = TrainingJobRows.Freeze(examples, request.ValidationRatio, request.Seed);
        var counts = DatasetTokenCounts.Count(model, tokenizers, dataset.Training.Select(e => e.Example), dataset.Validation.Select(e => e.Example));
        var estimate = TrainingCostEstimator.Estimate(model, counts, request.Hyperparameters.Epochs, request.Hyperparameters.Evaluations);
        if (request.ProviderQuote)
        {
            var (quote, why) = await ProviderQuoteAsync(model, dataset, estimate, request.Hyperparameters);
            estimate = quote is null
                ? estimate with { Notes = [.. estimate.Notes, why!] }
                : TrainingCostEstimator.Estimate(model, counts, request.Hyperparameters.Epochs, request.Hyperparameters.Evaluations, quote);
        }
        if (examples.Count < TrainValidationSplit.MinTrainingExamples)
        {
            estimate = estimate with
            {
                Notes = [.. estimate.Notes, $"A job needs at least {TrainValidationSplit.MinTrainingExamples} validated examples; there are {examples.Count}."],
            };
        }
        var projection = request.Projection is { } traffic
            ? CostProjector.Project(model, traffic with { AverageExampleTokens = estimate.AverageTrainingExampleTokens }, estimate.TotalCost)
            : null;
        return new TrainingEstimate(estimate, dataset.Summary.TrainingExamples, dataset.Summary.ValidationExamples, dataset.Summary.SplitNote, projection);
    }

    /// <summary>
    /// The provider's own price for the would-be job, when it gives one (Together): the training file is uploaded once,
    /// under the name and SHA-256 a job on the same snapshot looks for, so the job reuses it. Never fails the estimate:
    /// a provider without quotes, without an account or out of reach gives a note instead.
    /// </summary>
    private async Task<(ProviderCostQuote? Quote, string? Why)> ProviderQuoteAsync(BaseModel model, FrozenDataset dataset, TrainingCostEstimate estimate, JobHyperparameters h)
    {
        var provider = providers.FirstOrDefault(p => p.Name == model.Provider);
        if (provider is null || !provider.QuotesPrices)
        {
            return (null, $"{model.Provider} gives no price estimate of its own; the figures above are ours.");
        }
        ProviderAccount account;
        try
        {
            account = await accounts.ResolveAsync(OrganizationId, model.Provider);
        }
        catch (ProblemException e)
        {
            return (null, $"No provider quote: {e.Message}");
        }
        using var timeout = new CancellationTokenSource(QuoteTimeout);
        try
        {
            var file = await provider.FindFileAsync(account, TrainingJobGrain.TrainingFileName, dataset.Summary.TrainingSha256, timeout.Token)
                ?? await provider.UploadFileAsync(account, TrainingJobGrain.TrainingFileName,
                    (stream, ct) => TrainingJobRows.WriteLinesAsync(dataset.Training.Select(e => e.Example), stream, ct), dataset.Summary.TrainingSha256, timeout.Token);
            var price = await provider.EstimatePriceAsync(account, new ProviderJobRequest("estimate", model.ProviderModel, file.Id, null, null, dataset.Summary.Seed,
                new Hyperparameters(h.Epochs ?? estimate.Epochs, h.BatchSize, h.LearningRateMultiplier, null, null, null, null, null, h.Evaluations),
                estimate.TrainingTokensPerEpoch, estimate.ValidationTokens), timeout.Token);
            return price is null
                ? (null, $"{model.Provider}'s price estimate is unavailable right now; the figures above are ours.")
                : (new ProviderCostQuote(model.Provider, price.TotalUsd, price.TrainTokens, price.EvalTokens, price.AllowedToProceed), null);
        }
        catch (Exception e) when (e is ProviderException or OperationCanceledException)
        {
            logger.LogInformation("No {Provider} quote for organization {OrganizationId}: {Reason}", model.Provider, OrganizationId, e.Message);
            return (null, $"{model.Provider}'s price estimate is unavailable right now ({(e is OperationCanceledException ? "no answer in time" : e.Message)}); the figures above are ours.");
        }
    }

    public Task<TrainingJobPage> ListAsync(TrainingJobListRequest request) => rows.ListAsync(OrganizationId, request);

    /// <summary>The base model, plan, agent, split and hyperparameters a job or an estimate names, checked in that order.</summary>
    private async Task<(BaseModel Model, PlanDefinition Plan)> CheckChoicesAsync(string? baseModel, Guid? agentId, double validationRatio, JobHyperparameters h)
    {
        if (string.IsNullOrWhiteSpace(baseModel))
        {
            throw ProblemException.Invalid("baseModel", "'baseModel' is required: a fine-tunable model of GET /v1/base-models.");
        }
        var model = catalog.Get(baseModel);
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var organization = GrainFactory.GetGrain<IOrganizationGrain>(OrganizationId);
        var plan = await organization.GetPlanAsync();
        if (!model.AcceptsNewJobs(today))
        {
            var why = !model.FineTunable ? "cannot be fine-tuned"
                : model.IsShutDown(today) ? $"was shut down on {model.ShutdownDate:yyyy-MM-dd}"
                : $"took its last new fine-tuning jobs on {model.NewJobsUntil:yyyy-MM-dd}";
            // What to choose instead: the plan's models that take new jobs today (after OpenAI's cut-off, Together's).
            var instead = catalog.All.Where(m => m.AcceptsNewJobs(today) && plan.AllowsBaseModel(m.Id)).Select(m => m.Id).ToList();
            throw new ProblemException(ProblemKind.Validation, "Base model not available for training",
                $"{model.Id} {why}. " + (instead.Count == 0
                    ? $"The {plan.DisplayName} plan has no base model that takes new jobs today."
                    : $"The {plan.DisplayName} plan can train on: {string.Join(", ", instead)}."),
                "baseModel", new Dictionary<string, string>
                {
                    ["rule"] = !model.FineTunable ? "fineTunable" : model.IsShutDown(today) ? "shutdownDate" : "newJobsUntil",
                    ["alternatives"] = string.Join(",", instead),
                });
        }
        if (!plan.FineTuning)
        {
            throw PlanLimits.NotIncluded(plan, "fineTuning", $"The {plan.DisplayName} plan does not include fine-tuning. Upgrade the plan to train models.");
        }
        if (!plan.AllowsBaseModel(model.Id))
        {
            throw PlanLimits.NotIncluded(plan, "allowedBaseModels",
                $"The {plan.DisplayName} plan does not include {model.Id}; it allows {string.Join(", ", plan.AllowedBaseModels)}.");
        }
        if (agentId is { } agent)
        {
            await organization.GetAgentAsync(agent);
        }
        TrainValidationSplit.Check(new SplitOptions(0, validationRatio));
        if (h.Epochs is < 1 or > TrainingCostEstimator.MaxEpochs)
        {
            throw ProblemException.Invalid("hyperparameters.epochs", $"'epochs' must be between 1 and {TrainingCostEstimator.MaxEpochs}, or absent for auto.");
        }
        if (h.BatchSize is < 1 or > MaxBatchSize)
        {
            throw ProblemException.Invalid("hyperparameters.batchSize", $"'batchSize' must be between 1 and {MaxBatchSize}, or absent for auto.");
        }
        if (h.LearningRateMultiplier is { } lrm && (!double.IsFinite(lrm) || lrm <= 0 || lrm > MaxLearningRateMultiplier))
        {
            throw ProblemException.Invalid("hyperparameters.learningRateMultiplier", $"'learningRateMultiplier' must be above 0 and at most {MaxLearningRateMultiplier}, or absent for auto.");
        }
        if (h.Evaluations is < 0 or > MaxEvaluations)
        {
            throw ProblemException.Invalid("hyperparameters.evaluations", $"'evaluations' must be between 0 and {MaxEvaluations}.");
        }
        return (model, plan);
    }

    private static void CheckSuffix(string? suffix)
    {
        if (suffix is null)
        {
            return;
        }
        if (suffix.Length is 0 or > MaxSuffixLength || !SuffixPattern().IsMatch(suffix))
        {
            throw ProblemException.Invalid("suffix", $"'suffix' must be 1 to {MaxSuffixLength} characters of letters, digits, '-' and '_' (it becomes part of the provider's model name).");
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex SuffixPattern();
}
