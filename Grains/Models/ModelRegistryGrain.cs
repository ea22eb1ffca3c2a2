using ObjectaLabs.Orleans.Hosting;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Models;

/// <summary>An organization's model registry (see <see cref="IModelRegistryGrain"/>).</summary>
public sealed class ModelRegistryGrain(
    [PersistentState("model-registry", StorageNames.Postgres)] IPersistentState<ModelRegistryState> state,
    FineTunedModelRows rows,
    ObjectaLabs.Orleans.Usage.UsageRollups rollups,
    TimeProvider clock,
    ILogger<ModelRegistryGrain> logger) : Grain, IModelRegistryGrain
{
    private Guid OrganizationId => this.GetPrimaryKey();

    public async Task<FineTunedModelInfo> RegisterAsync(ModelRegistration registration)
    {
        if (registration.OrganizationId != OrganizationId)
        {
            throw new ArgumentException("The registration belongs to another organization.", nameof(registration));
        }
        var modelId = ModelIds.ForJob(registration.JobId);
        if (!state.State.VersionByJob.TryGetValue(registration.JobId, out var version))
        {
            // The version is reserved and written before the model grain is told, so a crash in between
            // re-registers with the same version instead of skipping one.
            var line = registration.Name.ToUpperInvariant();
            var next = state.State.Copy();
            version = next.LastVersions.GetValueOrDefault(line) + 1;
            next.LastVersions[line] = version;
            next.VersionByJob[registration.JobId] = version;
            next.ModelIds.Add(modelId);
            await WriteAsync(next);
            logger.LogInformation("Version {Version} of {ModelLine} reserved for job {JobId}", version, registration.Name, registration.JobId);
        }
        return await GrainFactory.GetGrain<IFineTunedModelGrain>(modelId).RegisterAsync(registration with { Version = version });
    }

    public ValueTask<IReadOnlyList<Guid>> ListModelIdsAsync() =>
        ValueTask.FromResult<IReadOnlyList<Guid>>([.. state.State.ModelIds]);

    public async Task<IReadOnlyList<ModelCard>> ListCardsAsync(bool includeDeleted)
    {
        var models = await Task.WhenAll(state.State.ModelIds.Select(id => GrainFactory.GetGrain<IFineTunedModelGrain>(id).GetAsync(OrganizationId).AsTask()));
        var today = Today;
        var usage = await rollups.FineTunedSinceAsync(OrganizationId, MonthStart);
        return [.. models.Where(m => includeDeleted || m.Status != ModelStatus.Deleted).Select(m => Card(m, today, usage))];
    }

    public async Task<ModelCard> GetCardAsync(Guid modelId)
    {
        if (!state.State.ModelIds.Contains(modelId))
        {
            throw ProblemException.NotFound("Model", modelId);
        }
        var model = await GrainFactory.GetGrain<IFineTunedModelGrain>(modelId).GetAsync(OrganizationId);
        return Card(model, Today, await rollups.FineTunedSinceAsync(OrganizationId, MonthStart));
    }

    public ValueTask<Guid?> GetDefaultAsync() => ValueTask.FromResult(state.State.DefaultModelId);

    public async Task<Guid?> SetDefaultAsync(Guid? modelId)
    {
        if (modelId == state.State.DefaultModelId)
        {
            return modelId;
        }
        if (modelId is { } id)
        {
            if (!state.State.ModelIds.Contains(id))
            {
                throw ProblemException.NotFound("Model", id);
            }
            var model = await GrainFactory.GetGrain<IFineTunedModelGrain>(id).GetAsync(OrganizationId);
            if (!model.Status.Deployable())
            {
                throw new ProblemException(ProblemKind.Conflict, "Model cannot be the default",
                    $"{model.Name} v{model.Version} is {model.Status.Name()}; only an active model can become the default.", "modelId",
                    new Dictionary<string, string> { ["modelStatus"] = model.Status.Name() });
            }
        }
        var next = state.State.Copy();
        next.DefaultModelId = modelId;
        // The row first (one transaction moves the flag), then the state.
        await rows.SetDefaultAsync(OrganizationId, modelId);
        await WriteAsync(next);
        TellDeployments();
        logger.LogInformation("Organization {OrganizationId}: default model {ModelId}", OrganizationId, modelId);
        return modelId;
    }

    public async Task ModelStoppedServingAsync(Guid modelId)
    {
        if (state.State.DefaultModelId == modelId)
        {
            var next = state.State.Copy();
            next.DefaultModelId = null;
            await rows.SetDefaultAsync(OrganizationId, null);
            await WriteAsync(next);
            TellDeployments();
            logger.LogInformation("Organization {OrganizationId}: default model {ModelId} stopped serving and is no longer the default", OrganizationId, modelId);
        }
    }

    private DateOnly Today => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    /// <summary>The first instant of this month (UTC): where a card's usage starts.</summary>
    private DateTimeOffset MonthStart
    {
        get
        {
            var now = clock.GetUtcNow().UtcDateTime;
            return new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        }
    }

    private ModelCard Card(FineTunedModelInfo model, DateOnly today, Dictionary<Guid, (long Requests, decimal CostUsd, long RatingSum, long Ratings)> usage)
    {
        var (requests, cost, ratingSum, ratings) = usage.GetValueOrDefault(model.Id);
        return new(model, model.Id == state.State.DefaultModelId, ModelWarnings.For(model, today),
            new ModelUsageThisMonth(MonthStart, requests, cost, ratings == 0 ? null : (double)ratingSum / ratings, ratings));
    }

    private Task WriteAsync(ModelRegistryState next) => state.CommitAsync(next);

    /// <summary>The default model is what agents with no deployment resolve to: resolution's snapshot follows it (one-way).</summary>
    private void TellDeployments() => GrainFactory.GetGrain<ObjectaLabs.Orleans.Deployment.IDeploymentsGrain>(OrganizationId).SourcesChangedAsync().Ignore();
}
