using ObjectaLabs.Orleans.Deployment;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Api.Resolution;

/// <summary>The model to call for one request, and why.</summary>
public sealed record ResolvedModel(
    string Provider,
    string ProviderModel,
    string? BaseUrl,
    Guid? ModelId,
    string? Name,
    int? Version,
    ExperimentArm? Arm,
    Guid? ExperimentId,
    ModelTarget Fallback,
    bool FellBack,
    string? FallbackReason,
    long SnapshotVersion,
    ResolutionSource Source);

/// <summary>Where the answer came from: the agent's deployment, else the organization's default model, else the agent's base model.</summary>
public enum ResolutionSource
{
    Deployment = 0,
    OrganizationDefault = 1,
    AgentBaseModel = 2,
}

/// <summary>
/// Resolution from a snapshot, in memory: the agent's model, or its experiment's arm for the subject (sticky: a pure
/// function of experiment id and subject), and the fallback when that model does not serve today. An agent with no
/// deployment gets the organization's default model, else its own base model.
/// </summary>
public static class Resolver
{
    public const int MaxSubjectLength = 256;

    public static ResolvedModel Resolve(ResolutionSnapshot snapshot, Guid agentId, string? subject, DateTimeOffset now)
    {
        var source = ResolutionSource.Deployment;
        if (!snapshot.Agents.TryGetValue(agentId, out var deployment))
        {
            (deployment, source) = Undeployed(snapshot, agentId);
        }
        if (subject is { Length: > MaxSubjectLength })
        {
            throw ProblemException.Invalid("subject", $"'subject' is at most {MaxSubjectLength} characters.");
        }
        ModelChoice choice = deployment.Model;
        ExperimentArm? arm = null;
        if (deployment.Experiment is { Status: ExperimentStatus.Running } experiment)
        {
            if (string.IsNullOrEmpty(subject))
            {
                throw ProblemException.Invalid("subject", $"Agent {agentId} runs an experiment by {(experiment.Subject == SubjectKind.EndUser ? "end user" : "conversation")}: 'subject' (its id) is required, so the same subject always gets the same model.");
            }
            arm = StickyAssignment.Assign(experiment.Id, subject, experiment.CandidateShare);
            choice = arm == ExperimentArm.Candidate ? experiment.Candidate : experiment.Control;
        }
        var target = snapshot.TargetOf(choice);
        var fallback = snapshot.TargetOf(deployment.Fallback);
        if (target.ServesAt(now))
        {
            return Answer(target, arm, deployment, fallback, fellBack: false, reason: null, snapshot.Version, source);
        }
        var reason = target.NotServingReasonAt(now);
        if (!fallback.ServesAt(now))
        {
            throw new ProblemException(ProblemKind.Conflict, "No model can serve",
                $"Agent {agentId}'s model does not serve ({reason}) and neither does its fallback ({fallback.NotServingReasonAt(now)}). Deploy another model.", "agentId");
        }
        return Answer(fallback, arm, deployment, fallback, fellBack: true, reason, snapshot.Version, source);
    }

    /// <summary>
    /// An agent with no deployment: the organization's default model (falling back to the agent's base model, else the
    /// default's own base model), else the agent's base model; an archived or unknown agent, or one with neither, is not found.
    /// </summary>
    private static (AgentDeployment Deployment, ResolutionSource Source) Undeployed(ResolutionSnapshot snapshot, Guid agentId)
    {
        if (snapshot.AgentBaseModels is not { } agents || !agents.TryGetValue(agentId, out var agentBase))
        {
            throw ProblemException.NotFound("Agent", agentId);
        }
        if (snapshot.DefaultModel is { } defaultModel)
        {
            var fallback = agentBase ?? snapshot.TargetOf(ModelChoice.FineTuned(defaultModel)).BaseModel;
            return (new AgentDeployment(agentId, ModelChoice.FineTuned(defaultModel), ModelChoice.Base(fallback ?? ""), null, [], DateTimeOffset.MinValue),
                ResolutionSource.OrganizationDefault);
        }
        if (agentBase is not null)
        {
            return (new AgentDeployment(agentId, ModelChoice.Base(agentBase), ModelChoice.Base(agentBase), null, [], DateTimeOffset.MinValue), ResolutionSource.AgentBaseModel);
        }
        throw new ProblemException(ProblemKind.NotFound, "No model for this agent",
            $"Agent {agentId} has no deployment and no default base model, and the organization has no default model: deploy a model to it, give it a base model, or set a default model.", "agentId");
    }

    private static ResolvedModel Answer(ModelTarget target, ExperimentArm? arm, AgentDeployment deployment, ModelTarget fallback, bool fellBack, string? reason, long version, ResolutionSource source) =>
        new(target.Provider, target.ProviderModel, target.BaseUrl, target.ModelId, target.Name, target.Version, arm,
            arm is null ? null : deployment.Experiment!.Id, fallback, fellBack, reason, version, source);
}
