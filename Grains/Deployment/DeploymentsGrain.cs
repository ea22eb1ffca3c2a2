using System.Globalization;
using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Experiments;
using ObjectaLabs.Orleans.FewShot;
using ObjectaLabs.Orleans.Hosting;
using ObjectaLabs.Orleans.Models;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Plans;
using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Usage;

namespace ObjectaLabs.Orleans.Deployment;

/// <summary>An organization's deployments (see <see cref="IDeploymentsGrain"/>).</summary>
public sealed class DeploymentsGrain(
    [PersistentState("deployments", StorageNames.Postgres)] IPersistentState<DeploymentsState> state,
    BaseModelCatalog catalog,
    UsageRollups rollups,
    ExampleEmbedder embedder,
    TimeProvider clock,
    ILogger<DeploymentsGrain> logger) : Grain, IDeploymentsGrain
{
    public const int MinimumSampleFloor = 10;
    public const int MinimumSampleCeiling = 10_000_000;
    public const int PastExperimentsKept = 20;

    // API processes holding this organization's snapshot; a subscription lapses unless renewed (the API renews every 20 s).
    private readonly global::Orleans.Utilities.ObserverManager<IResolutionObserver> _observers = new(TimeSpan.FromMinutes(1), logger);
    private ResolutionSnapshot? _snapshot;

    // What the organization grain and the registry last said (keys, agents, default model), and when: renewals re-read
    // them at most every SourcesRecheck, which catches a lost one-way "sources changed" message.
    private (OrganizationSources Organization, Guid? DefaultModel)? _sources;
    private DateTimeOffset _sourcesReadAt;

    /// <summary>How often a subscription's renewal also re-reads keys, agents, the default model and the models' states (the push's safety net).</summary>
    public static readonly TimeSpan SourcesRecheck = TimeSpan.FromSeconds(20);

    // Models cooling down after failures, as their grains last said (see CooldownChangedAsync).
    private readonly Dictionary<ModelChoice, DateTimeOffset> _coolingDown = [];

    private Guid OrganizationId => this.GetPrimaryKey();

    public async Task CooldownChangedAsync(ModelChoice model, DateTimeOffset? coolingDownUntil)
    {
        if (coolingDownUntil is { } until)
        {
            _coolingDown[model] = until;
        }
        else if (!_coolingDown.Remove(model))
        {
            return;
        }
        var referenced = state.State.Agents.Values.Any(a => References(a).Contains(model))
            || (_sources?.DefaultModel is { } d && model.ModelId == d)
            || (_sources?.Organization.AgentBaseModels.Values.Contains(model.BaseModel) ?? false);
        if (!referenced || _snapshot is null)
        {
            return; // no snapshot names it: the next one built will
        }
        await state.CommitAsync(state.State with { Version = state.State.Version + 1 });
        await PublishAsync();
    }

    public async Task<ResolutionSnapshot> SubscribeAsync(IResolutionObserver observer)
    {
        _observers.Subscribe(observer, observer);
        if (_sources is not null && clock.GetUtcNow() - _sourcesReadAt >= SourcesRecheck)
        {
            try
            {
                await RefreshSourcesAsync();
                // Rebuilt too (at most every SourcesRecheck): a model whose "changed" call failed is caught here, and the
                // API processes take the answer (same version, newer content) on this renewal.
                _snapshot = await BuildSnapshotAsync();
            }
            catch (Exception e)
            {
                // The snapshot held still answers; the next renewal tries again.
                logger.LogWarning(e, "Organization {OrganizationId}: keys, agents and default model not re-read for resolution", OrganizationId);
            }
        }
        return _snapshot ??= await BuildSnapshotAsync();
    }

    public Task UnsubscribeAsync(IResolutionObserver observer)
    {
        _observers.Unsubscribe(observer);
        return Task.CompletedTask;
    }

    public Task SourcesChangedAsync() => RefreshSourcesAsync();

    /// <summary>Re-reads keys, agents and the default model; when they changed, the version grows (kept, like every change) and the snapshot is pushed.</summary>
    private async Task RefreshSourcesAsync()
    {
        var read = await ReadSourcesAsync();
        if (_sources is { } held && held.Organization.SameAs(read.Organization) && held.DefaultModel == read.DefaultModel)
        {
            return;
        }
        // Unknown sources (first read in this activation) count as changed: an API process may hold an older set.
        _sources = read;
        await state.CommitAsync(state.State with { Version = state.State.Version + 1 });
        if (_snapshot is not null)
        {
            await PublishAsync();
        }
    }

    private async Task<(OrganizationSources Organization, Guid? DefaultModel)> ReadSourcesAsync()
    {
        var organization = await Organization.GetResolutionSourcesAsync();
        var defaultModel = await GrainFactory.GetGrain<IModelRegistryGrain>(OrganizationId).GetDefaultAsync();
        _sourcesReadAt = clock.GetUtcNow();
        return (organization, defaultModel);
    }

    public async Task ModelChangedAsync(Guid modelId)
    {
        var referenced = state.State.Agents.Values.Any(a => References(a).Any(c => c.ModelId == modelId));
        if (!referenced)
        {
            return;
        }
        // The version is kept, so an API process never holds a snapshot newer than one rebuilt after a reactivation.
        await state.CommitAsync(state.State with { Version = state.State.Version + 1 });
        await PublishAsync();
    }

    /// <summary>Rebuilds the snapshot and pushes it to every subscribed API process.</summary>
    private async Task PublishAsync()
    {
        // A failed rebuild leaves none held, so the next subscription rebuilds instead of answering the stale one.
        _snapshot = null;
        var snapshot = _snapshot = await BuildSnapshotAsync();
        await _observers.Notify(o => o.ChangedAsync(snapshot));
    }

    private async Task<ResolutionSnapshot> BuildSnapshotAsync()
    {
        var (sources, defaultModel) = _sources ??= await ReadSourcesAsync();
        var choices = state.State.Agents.Values.SelectMany(References)
            .Concat(sources.AgentBaseModels.Values.OfType<string>().Select(ModelChoice.Base))
            .Concat(defaultModel is { } id0 ? [ModelChoice.FineTuned(id0)] : [])
            .Distinct().ToList();
        var fineTuned = new Dictionary<Guid, ModelTarget>();
        foreach (var id in choices.Where(c => c.ModelId is not null).Select(c => c.ModelId!.Value))
        {
            try
            {
                var model = await GrainFactory.GetGrain<IFineTunedModelGrain>(id).GetAsync(OrganizationId);
                var serving = model.ServingNow;
                var serves = model.Status.Serves() && serving.IsReady;
                var reason = !model.Status.Serves() ? $"model {model.Status.Name()}"
                    : serving.State == ServingState.EndpointStarting ? $"dedicated endpoint {serving.Endpoint} starting"
                    : serving.State == ServingState.NoEndpoint ? "no dedicated endpoint running (its provider serves fine-tunes only on one)"
                    : null;
                fineTuned[id] = new ModelTarget(model.Provider, model.ProviderModelId, ProviderEndpoints.BaseUrlOf(model.Provider), id, model.Name, model.Version,
                    serves, reason, ShutdownDate: model.ShutdownDate, BaseModel: model.BaseModel);
            }
            catch (ProblemException e) when (e.Kind == ProblemKind.NotFound)
            {
                fineTuned[id] = new ModelTarget("unknown", id.ToString(), null, id, null, null, false, "model not found");
            }
        }
        var baseModels = new Dictionary<string, ModelTarget>(StringComparer.Ordinal);
        // The default model's own base model too: the fallback of an agent with no deployment and no base model.
        var defaultBase = defaultModel is { } d && fineTuned.TryGetValue(d, out var defaultTarget) ? defaultTarget.BaseModel : null;
        foreach (var id in choices.Where(c => c.BaseModel is not null).Select(c => c.BaseModel!).Append(defaultBase).OfType<string>().Distinct())
        {
            baseModels[id] = catalog.Find(id) is { } model
                ? new ModelTarget(model.Provider, model.ProviderModel, ProviderEndpoints.BaseUrlOf(model.Provider), null, model.Id, null, true, null, model.ShutdownDate)
                : new ModelTarget("unknown", id, null, null, id, null, false, "base model not in the catalog");
        }
        var now = clock.GetUtcNow();
        foreach (var (model, until) in _coolingDown.Where(c => c.Value <= now).ToList())
        {
            _coolingDown.Remove(model);
        }
        foreach (var (model, until) in _coolingDown)
        {
            if (model.ModelId is { } id && fineTuned.TryGetValue(id, out var cooling))
            {
                fineTuned[id] = cooling with { CoolingDownUntil = until };
            }
            else if (model.BaseModel is { } name && baseModels.TryGetValue(name, out var coolingBase))
            {
                baseModels[name] = coolingBase with { CoolingDownUntil = until };
            }
        }
        return new ResolutionSnapshot(OrganizationId, state.State.Version, state.State.Agents, fineTuned, baseModels, sources.Keys, sources.AgentBaseModels, defaultModel,
            state.State.FewShot);
    }

    private static IEnumerable<ModelChoice> References(AgentDeployment deployment)
    {
        yield return deployment.Model;
        yield return deployment.Fallback;
        if (deployment.Experiment is { } experiment)
        {
            yield return experiment.Control;
            yield return experiment.Candidate;
        }
    }

    private IOrganizationGrain Organization => GrainFactory.GetGrain<IOrganizationGrain>(OrganizationId);

    public ValueTask<OrganizationDeployments> GetAllAsync() =>
        ValueTask.FromResult(new OrganizationDeployments(OrganizationId, state.State.Version, [.. state.State.Agents.Values.OrderBy(a => a.AgentId)]));

    public async Task<AgentDeployment> GetAsync(Guid agentId)
    {
        await Organization.GetAgentAsync(agentId);
        return state.State.Agents.GetValueOrDefault(agentId) ?? throw ProblemException.NotFound("Deployment of agent", agentId);
    }

    public async Task<AgentDeployment> DeployAsync(Guid agentId, DeployRequest request)
    {
        var agent = await ActiveAgentAsync(agentId);
        var current = state.State.Agents.GetValueOrDefault(agentId);
        if (current?.Experiment is { } running)
        {
            throw ProblemException.Conflict($"Agent {agentId} has a running experiment ({running.Id}); stop or promote it before deploying another model.", "experiment");
        }
        await CheckAsync(request.Model, "model", mustBeDeployable: true);
        var fallback = await FallbackAsync(agent, request.Fallback);
        var next = new AgentDeployment(agentId, request.Model, fallback, null, current?.PastExperiments ?? [], clock.GetUtcNow());
        await CommitAsync(next);
        logger.LogInformation("Organization {OrganizationId}: agent {AgentId} deployed to {Model} (fallback {Fallback})", OrganizationId, agentId, request.Model, fallback);
        return next;
    }

    public async Task<AgentDeployment> StartExperimentAsync(Guid agentId, NewExperiment request)
    {
        var agent = await ActiveAgentAsync(agentId);
        var plan = await Organization.GetPlanAsync();
        if (!plan.AbTesting)
        {
            throw PlanLimits.NotIncluded(plan, "abTesting", $"The {plan.DisplayName} plan does not include A/B testing. Upgrade to Business or Enterprise to run experiments.");
        }
        var current = state.State.Agents.GetValueOrDefault(agentId);
        if (current?.Experiment is { } running)
        {
            throw ProblemException.Conflict($"Agent {agentId} already runs experiment {running.Id}; stop or promote it first.", "experiment");
        }
        CheckShare(request.CandidateShare);
        if (!double.IsFinite(request.Margin) || request.Margin is < 0 or >= 1)
        {
            throw ProblemException.Invalid("margin", "'margin' is the difference that counts as real, a fraction from 0 up to (not including) 1, e.g. 0.02.");
        }
        if (request.MinimumSample is < MinimumSampleFloor or > MinimumSampleCeiling)
        {
            throw ProblemException.Invalid("minimumSample", $"'minimumSample' (per arm, before any verdict) must be between {MinimumSampleFloor} and {MinimumSampleCeiling.ToString("N0", CultureInfo.InvariantCulture)}.");
        }
        var control = request.Control ?? current?.Model ?? (agent.DefaultBaseModel is { } baseModel ? ModelChoice.Base(baseModel)
            : throw ProblemException.Invalid("control", "The agent has no deployed model and no base model: give 'control'."));
        await CheckAsync(control, "control", mustBeDeployable: false);
        await CheckAsync(request.Candidate, "candidate", mustBeDeployable: true);
        if (control == request.Candidate)
        {
            throw ProblemException.Invalid("candidate", "The candidate is the control: an experiment needs two different models.");
        }
        var fallback = current?.Fallback ?? await FallbackAsync(agent, null);
        var now = clock.GetUtcNow();
        var experiment = new Experiment(Guid.CreateVersion7(), control, request.Candidate, request.CandidateShare, request.Subject, request.Margin,
            request.MinimumSample, ExperimentStatus.Running, now, null);
        var next = new AgentDeployment(agentId, control, fallback, experiment, current?.PastExperiments ?? [], now);
        await CommitAsync(next);
        logger.LogInformation("Organization {OrganizationId}: agent {AgentId} experiment {ExperimentId} started, {Share:P1} to {Candidate}",
            OrganizationId, agentId, experiment.Id, request.CandidateShare, request.Candidate);
        return next;
    }

    public async Task<AgentDeployment> SetSplitAsync(Guid agentId, double candidateShare)
    {
        var (current, experiment) = await RunningAsync(agentId);
        CheckShare(candidateShare);
        var next = current with { Experiment = experiment with { CandidateShare = candidateShare }, UpdatedAt = clock.GetUtcNow() };
        await CommitAsync(next);
        return next;
    }

    public async Task<AgentDeployment> StopExperimentAsync(Guid agentId)
    {
        var (current, experiment) = await RunningAsync(agentId);
        var results = await ResultsAsync(experiment);
        var next = Ended(current, experiment with { Outcome = ExperimentOutcome.Of(results.Analysis, forced: false) }, ExperimentStatus.Stopped, current.Model);
        await CommitAsync(next);
        logger.LogInformation("Organization {OrganizationId}: agent {AgentId} experiment {ExperimentId} stopped", OrganizationId, agentId, experiment.Id);
        return next;
    }

    public async Task<AgentDeployment> PromoteAsync(Guid agentId, bool force = false)
    {
        var (current, experiment) = await RunningAsync(agentId);
        // The candidate must still be deployable now, not only when the experiment started.
        await CheckAsync(experiment.Candidate, "candidate", mustBeDeployable: true);
        var analysis = (await ResultsAsync(experiment)).Analysis;
        var against = new[] { analysis.SuccessRate, analysis.Satisfaction }.Where(m => m.Verdict == ExperimentVerdict.CandidateWorse).Select(m => m.Metric).ToList();
        if (!force && (against.Count > 0 || analysis.SampleRatio.Mismatch))
        {
            throw new ProblemException(ProblemKind.Conflict, "The results advise against promoting",
                (against.Count > 0 ? $"The candidate is worse on {string.Join(" and ", against)}. " : "")
                + (analysis.SampleRatio.Mismatch ? $"The observed split ({analysis.SampleRatio.ObservedCandidateShare:P1} candidate) does not match the configured {experiment.CandidateShare:P1}: the results may be biased. " : "")
                + "Stop the experiment, or promote with force=true.", "experiment",
                new Dictionary<string, string>
                {
                    ["successRateVerdict"] = Verdict(analysis.SuccessRate.Verdict),
                    ["satisfactionVerdict"] = Verdict(analysis.Satisfaction.Verdict),
                    ["sampleRatioMismatch"] = analysis.SampleRatio.Mismatch ? "true" : "false",
                });
        }
        var next = Ended(current, experiment with { Outcome = ExperimentOutcome.Of(analysis, force) }, ExperimentStatus.Promoted, experiment.Candidate);
        await CommitAsync(next);
        logger.LogInformation("Organization {OrganizationId}: agent {AgentId} experiment {ExperimentId} promoted {Candidate}", OrganizationId, agentId, experiment.Id, experiment.Candidate);
        return next;
    }

    public async Task<ExperimentResults> GetExperimentResultsAsync(Guid agentId, Guid? experimentId)
    {
        await Organization.GetAgentAsync(agentId);
        var deployment = state.State.Agents.GetValueOrDefault(agentId);
        var experiment = experimentId is { } id
            ? (deployment?.Experiment is { } running && running.Id == id ? running : deployment?.PastExperiments.FirstOrDefault(e => e.Id == id))
              ?? throw ProblemException.NotFound("Experiment", id)
            : deployment?.Experiment ?? throw ProblemException.Conflict($"Agent {agentId} runs no experiment; name a past one with experimentId.", "experimentId");
        return await ResultsAsync(experiment);
    }

    public async Task<FewShotTemplate> GetFewShotAsync(Guid agentId)
    {
        await Organization.GetAgentAsync(agentId);
        return state.State.FewShot.GetValueOrDefault(agentId) ?? throw ProblemException.NotFound("Few-shot template of agent", agentId);
    }

    public async Task<FewShotTemplate> SetFewShotAsync(Guid agentId, FewShotTemplate template)
    {
        await ActiveAgentAsync(agentId);
        var checkedTemplate = FewShotTemplates.Check(template, embedder.Configured) with { UpdatedAt = clock.GetUtcNow() };
        if (checkedTemplate.Mode == FewShotMode.Fixed)
        {
            var missing = await GrainFactory.GetGrain<IExampleIndexGrain>(OrganizationId).MissingAsync(checkedTemplate.ExampleIds);
            if (missing.Count > 0)
            {
                throw ProblemException.Invalid("exampleIds", $"Not validated examples of this organization: {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", …" : "")}.");
            }
        }
        var templates = new Dictionary<Guid, FewShotTemplate>(state.State.FewShot) { [agentId] = checkedTemplate };
        await state.CommitAsync(state.State with { FewShot = templates, Version = state.State.Version + 1 });
        await PublishAsync();
        // One-way: the index loads (and embeds) in the background, so the agent's first request does not wait for it.
        await GrainFactory.GetGrain<IExampleIndexGrain>(OrganizationId).WarmAsync(checkedTemplate.Mode == FewShotMode.Embedding);
        logger.LogInformation("Organization {OrganizationId}: agent {AgentId} few-shot template set ({Mode}, k={K})", OrganizationId, agentId, checkedTemplate.Mode, checkedTemplate.K);
        return checkedTemplate;
    }

    public async Task RemoveFewShotAsync(Guid agentId)
    {
        await Organization.GetAgentAsync(agentId);
        if (!state.State.FewShot.ContainsKey(agentId))
        {
            throw ProblemException.NotFound("Few-shot template of agent", agentId);
        }
        var templates = new Dictionary<Guid, FewShotTemplate>(state.State.FewShot);
        templates.Remove(agentId);
        await state.CommitAsync(state.State with { FewShot = templates, Version = state.State.Version + 1 });
        await PublishAsync();
    }

    private Task<ExperimentResults> ResultsAsync(Experiment experiment) => ExperimentResultsReader.ReadAsync(rollups, OrganizationId, experiment, clock.GetUtcNow());

    private static string Verdict(ExperimentVerdict verdict) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(verdict.ToString());

    private AgentDeployment Ended(AgentDeployment current, Experiment experiment, ExperimentStatus status, ModelChoice model)
    {
        var now = clock.GetUtcNow();
        var ended = experiment with { Status = status, EndedAt = now };
        return current with { Model = model, Experiment = null, PastExperiments = [ended, .. current.PastExperiments.Take(PastExperimentsKept - 1)], UpdatedAt = now };
    }

    private async Task<(AgentDeployment Current, Experiment Experiment)> RunningAsync(Guid agentId)
    {
        await Organization.GetAgentAsync(agentId);
        var current = state.State.Agents.GetValueOrDefault(agentId);
        return current?.Experiment is { } experiment
            ? (current, experiment)
            : throw ProblemException.Conflict($"Agent {agentId} runs no experiment.", "experiment");
    }

    private async Task<AgentInfo> ActiveAgentAsync(Guid agentId)
    {
        var agent = await Organization.GetAgentAsync(agentId);
        if (agent.ArchivedAt is not null)
        {
            throw ProblemException.Conflict($"Agent {agentId} is archived: it takes no new deployments or experiments.", "agentId");
        }
        return agent;
    }

    private async Task<ModelChoice> FallbackAsync(AgentInfo agent, ModelChoice? requested)
    {
        if (requested is not null)
        {
            await CheckAsync(requested, "fallback", mustBeDeployable: false);
            return requested;
        }
        if (agent.DefaultBaseModel is not { } baseModel)
        {
            throw ProblemException.Invalid("fallback", "The agent has no base model to fall back to: give 'fallback' (a base model, or a fine-tuned model).");
        }
        var fallback = ModelChoice.Base(baseModel);
        await CheckAsync(fallback, "fallback", mustBeDeployable: false);
        return fallback;
    }

    /// <summary>A fine-tuned model of this organization that serves (and is active when it is to be newly deployed), or a catalog base model not shut down.</summary>
    private async Task CheckAsync(ModelChoice choice, string field, bool mustBeDeployable)
    {
        if ((choice.ModelId is null) == (choice.BaseModel is null))
        {
            throw ProblemException.Invalid(field, $"'{field}' names exactly one of 'modelId' (a fine-tuned model) or 'baseModel' (a catalog model).");
        }
        if (choice.ModelId is { } modelId)
        {
            var card = await GrainFactory.GetGrain<IModelRegistryGrain>(OrganizationId).GetCardAsync(modelId);
            var status = card.Model.Status;
            if (mustBeDeployable ? !status.Deployable() : !status.Serves())
            {
                throw new ProblemException(ProblemKind.Conflict, "Model cannot be deployed",
                    $"{card.Model.Name} v{card.Model.Version} is {status.Name()}; {(mustBeDeployable ? "only an active model can be newly deployed" : "it serves no traffic")}.",
                    field, new Dictionary<string, string> { ["modelStatus"] = status.Name() });
            }
            return;
        }
        var model = catalog.Get(choice.BaseModel!, field);
        if (model.IsShutDown(DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime)))
        {
            throw ProblemException.Invalid(field, $"{model.Id} was shut down on {model.ShutdownDate:yyyy-MM-dd}: it serves no traffic.");
        }
    }

    private static void CheckShare(double share)
    {
        if (!double.IsFinite(share) || share <= 0 || share >= 1)
        {
            throw ProblemException.Invalid("candidateShare", "'candidateShare' is the candidate's fraction of subjects, above 0 and below 1 (e.g. 0.1 for 10 %).");
        }
    }

    private async Task CommitAsync(AgentDeployment deployment)
    {
        var agents = new Dictionary<Guid, AgentDeployment>(state.State.Agents) { [deployment.AgentId] = deployment };
        await state.CommitAsync(state.State with { Agents = agents, Version = state.State.Version + 1 });
        await PublishAsync();
    }
}
