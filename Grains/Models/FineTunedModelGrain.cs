using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Hosting;
using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Usage;

namespace ObjectaLabs.Orleans.Models;

/// <summary>The registry entry of one fine-tuned model (see <see cref="IFineTunedModelGrain"/>).</summary>
public sealed class FineTunedModelGrain(
    [PersistentState("model", StorageNames.Postgres)] IPersistentState<FineTunedModelState> state,
    BaseModelCatalog catalog,
    FineTunedModelRows rows,
    UsageRollups rollups,
    Microsoft.Extensions.Options.IOptions<UsageOptions> usageOptions,
    TimeProvider clock,
    ILogger<FineTunedModelGrain> logger) : Grain, IFineTunedModelGrain, IRemindable
{
    /// <summary>The reminder that retires the model on its base model's shutdown date (durable: it survives restarts and crashes).</summary>
    public const string RetirementReminder = "retire-at-shutdown";
    public const int MaxNameLength = 200;
    public const int MaxDescriptionLength = 2000;

    // Reminder periods are bounded (about 49 days), shutdown dates are not: the reminder looks once a day, and on the
    // last day is re-armed to fire at the date itself.
    private static readonly TimeSpan RetirementCheck = TimeSpan.FromDays(1);

    private Guid Id => this.GetPrimaryKey();

    // This model's usage, added up in memory and written to its hourly rollups on a timer (never to the grain state).
    private UsageWriter? _usage;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Models registered before serving states existed were served per token: say so in memory (nothing to write).
        if (state.State.Model is { Serving: null } unrecorded)
        {
            state.State = new FineTunedModelState { Model = unrecorded with { Serving = unrecorded.ServingNow } };
        }
        // A model registered before retirement existed, or whose reminder was lost, gets one now.
        if (state.State.Model is { ShutdownDate: not null } model && await this.GetReminder(RetirementReminder) is null)
        {
            await ArmRetirementAsync(model);
        }
        await base.OnActivateAsync(cancellationToken);
    }

    public async Task RecordUsageAsync(Guid organizationId, IReadOnlyList<UsageDelta> deltas)
    {
        var model = await GetAsync(organizationId);
        if (deltas.Any(d => d.Key.Model.ModelId != Id))
        {
            throw new InvalidOperationException($"Usage of another model was sent to model {Id}.");
        }
        var prices = catalog.Find(model.BaseModel)?.Prices;
        _usage ??= new UsageWriter(this, GrainFactory, organizationId, Deployment.ModelChoice.FineTuned(Id), new UsageLedger(organizationId, rollups, prices?.FineTunedInput, prices?.FineTunedOutput, clock),
            usageOptions.Value, clock, logger);
        await _usage.AddAsync(deltas);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) =>
        _usage?.FlushAsync() ?? Task.CompletedTask;

    public async Task<FineTunedModelInfo> RegisterAsync(ModelRegistration registration)
    {
        if (state.State.Model is { } existing)
        {
            if (existing.JobId == registration.JobId && existing.OrganizationId == registration.OrganizationId)
            {
                return existing;
            }
            throw ProblemException.Conflict($"Model {Id} is already registered for another job.");
        }
        var now = clock.GetUtcNow();
        var baseModel = catalog.Find(registration.BaseModel);
        // A provider that serves fine-tunes only on a dedicated endpoint: registered, but not answering until one is ready.
        var dedicated = baseModel?.FineTunedServing == FineTunedServing.DedicatedEndpoint;
        var model = new FineTunedModelInfo(
            Id, registration.OrganizationId, registration.JobId, registration.AgentId, registration.Name, registration.Version,
            Description: null, registration.Provider, registration.ProviderModelId, registration.BaseModel, ModelStatus.Active,
            baseModel?.ShutdownDate, registration.DatasetHash, registration.TrainingExamples,
            registration.ValidationExamples, registration.Simulated, now, now,
            Serving: new ModelServing(dedicated ? ServingState.NoEndpoint : ServingState.Ready, dedicated, null, now));
        // The row first (its constraints may still refuse, and then nothing has changed), then the state.
        await rows.UpsertAsync(model);
        await state.CommitAsync(new FineTunedModelState { Model = model });
        logger.LogInformation("Model {ModelId} v{Version} registered from job {JobId}", Id, model.Version, model.JobId);
        await ArmRetirementAsync(model);
        return model;
    }

    public async Task<FineTunedModelInfo> UpdateAsync(Guid organizationId, ModelUpdate update)
    {
        var model = await GetAsync(organizationId);
        var next = model;
        if (update.Name is { } rawName)
        {
            var name = rawName.Trim();
            if (name.Length is 0 or > MaxNameLength || name.Any(char.IsControl))
            {
                throw ProblemException.Invalid("name", $"'name' must be 1 to {MaxNameLength} characters, without control characters.");
            }
            next = next with { Name = name };
        }
        if (update.Description is { } description)
        {
            if (description.Length > MaxDescriptionLength || description.Any(c => char.IsControl(c) && c is not '\n' and not '\t'))
            {
                throw ProblemException.Invalid("description", $"'description' must be at most {MaxDescriptionLength} characters, without control characters other than new lines and tabs.");
            }
            next = next with { Description = description.Length == 0 ? null : description };
        }
        if (update.Status is { } status && status != model.Status)
        {
            if (!model.Status.AllowedMoves().Contains(status))
            {
                throw new ProblemException(ProblemKind.Conflict, "Status change not allowed",
                    $"A {model.Status.Name()} model cannot become {status.Name()}; from {model.Status.Name()} it can become: " +
                    (model.Status.AllowedMoves() is { Count: > 0 } moves ? string.Join(", ", moves.Select(m => m.Name())) : "nothing (it is final)") + ".",
                    "status", new Dictionary<string, string> { ["current"] = model.Status.Name(), ["requested"] = status.Name() });
            }
            next = next with { Status = status };
        }
        if (next == model)
        {
            return model;
        }
        next = next with { UpdatedAt = clock.GetUtcNow() };
        await SaveAsync(next);
        logger.LogInformation("Model {ModelId} updated: {Status}, '{Name}'", Id, next.Status.Name(), next.Name);
        if ((model.Status.Serves() && !next.Status.Serves()) || next.Status == ModelStatus.Deleted)
        {
            await StoppedServingAsync(next);
        }
        else if (next.Status != model.Status)
        {
            await TellDeploymentsAsync(next);
        }
        return next;
    }

    public async Task<FineTunedModelInfo> SetServingAsync(Guid organizationId, ServingUpdate update)
    {
        var model = await GetAsync(organizationId);
        var serving = model.ServingNow;
        if (!serving.Dedicated)
        {
            throw new ProblemException(ProblemKind.Conflict, "Served without an endpoint",
                $"Model {Id}'s provider ({model.Provider}) serves it per token: it is ready whenever its status serves, and has no endpoint to record.", "state");
        }
        if (!Enum.IsDefined(update.State))
        {
            throw ProblemException.Invalid("state", "'state' must be 'ready', 'endpointStarting' or 'noEndpoint'.");
        }
        var endpoint = update.Endpoint?.Trim();
        if (endpoint is { Length: 0 })
        {
            endpoint = null;
        }
        if (endpoint is { Length: > ModelServing.MaxEndpointLength } || endpoint?.Any(char.IsControl) == true)
        {
            throw ProblemException.Invalid("endpoint", $"'endpoint' must be at most {ModelServing.MaxEndpointLength} characters, without control characters.");
        }
        if (update.State != ServingState.NoEndpoint && endpoint is null)
        {
            throw ProblemException.Invalid("endpoint", "'endpoint' (the provider's endpoint name) is required when the endpoint is starting or ready.");
        }
        if (update.State == ServingState.NoEndpoint)
        {
            endpoint = null;
        }
        if (serving.State == update.State && serving.Endpoint == endpoint)
        {
            return model;
        }
        var now = clock.GetUtcNow();
        var next = model with { Serving = new ModelServing(update.State, true, endpoint, now), UpdatedAt = now };
        await SaveAsync(next);
        logger.LogInformation("Model {ModelId} serving: {State} on {Endpoint}", Id, update.State, endpoint ?? "no endpoint");
        await TellDeploymentsAsync(next);
        return next;
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != RetirementReminder)
        {
            return;
        }
        if (state.State.Model is not { ShutdownDate: { } shutdown } model || model.Status is ModelStatus.Deleted or ModelStatus.Retired)
        {
            await DisarmRetirementAsync();
            return;
        }
        var now = clock.GetUtcNow();
        var at = new DateTimeOffset(shutdown.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        if (now < at)
        {
            if (at - now < RetirementCheck)
            {
                await this.RegisterOrUpdateReminder(RetirementReminder, at - now, RetirementCheck);
            }
            return;
        }
        var retired = model with { Status = ModelStatus.Retired, RetiredAt = now, UpdatedAt = now };
        await SaveAsync(retired);
        logger.LogWarning("Model {ModelId} retired: its base model {BaseModel} was shut down on {Shutdown:yyyy-MM-dd}", Id, model.BaseModel, shutdown);
        await StoppedServingAsync(retired);
        await DisarmRetirementAsync();
    }

    /// <summary>Arms the daily retirement check when the base model has a shutdown date (at the date itself when it is within a day).</summary>
    private async Task ArmRetirementAsync(FineTunedModelInfo model)
    {
        if (model.ShutdownDate is not { } shutdown || model.Status is ModelStatus.Deleted or ModelStatus.Retired)
        {
            return;
        }
        var until = new DateTimeOffset(shutdown.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) - clock.GetUtcNow();
        var due = until <= TimeSpan.Zero ? TimeSpan.FromSeconds(1) : until < RetirementCheck ? until : RetirementCheck;
        await this.RegisterOrUpdateReminder(RetirementReminder, due, RetirementCheck);
    }

    private async Task DisarmRetirementAsync()
    {
        if (await this.GetReminder(RetirementReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    /// <summary>Row first (its unique name-and-version may refuse a rename, and then nothing has changed), then the state.</summary>
    private async Task SaveAsync(FineTunedModelInfo next)
    {
        try
        {
            await rows.UpsertAsync(next);
        }
        catch (Npgsql.PostgresException e) when (e.SqlState == Npgsql.PostgresErrorCodes.UniqueViolation)
        {
            throw ProblemException.Conflict($"Another model of this organization is already named '{next.Name}' v{next.Version}.", "name");
        }
        await state.CommitAsync(new FineTunedModelState { Model = next });
    }

    /// <summary>Tells the registry the model serves no more, so a default on it is cleared (retried by the registry's own read if this fails).</summary>
    private async Task StoppedServingAsync(FineTunedModelInfo model)
    {
        try
        {
            await GrainFactory.GetGrain<IModelRegistryGrain>(model.OrganizationId).ModelStoppedServingAsync(Id);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogWarning(e, "Model {ModelId}: the registry was not told it stopped serving", Id);
        }
        await TellDeploymentsAsync(model);
    }

    /// <summary>Tells the organization's deployments its status changed, so resolution's snapshot follows within the second.</summary>
    private async Task TellDeploymentsAsync(FineTunedModelInfo model)
    {
        try
        {
            await GrainFactory.GetGrain<ObjectaLabs.Orleans.Deployment.IDeploymentsGrain>(model.OrganizationId).ModelChangedAsync(Id);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The deployments grain rebuilds its snapshot on a renewal at most every 20 s, and the API processes take it.
            logger.LogWarning(e, "Model {ModelId}: the deployments were not told of its change", Id);
        }
    }

    public ValueTask<FineTunedModelInfo> GetAsync(Guid organizationId) =>
        state.State.Model is { } model && model.OrganizationId == organizationId
            ? ValueTask.FromResult(model)
            : throw ProblemException.NotFound("Model", Id);
}
