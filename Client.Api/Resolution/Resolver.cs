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
    long SnapshotVersion);

/// <summary>
/// Resolution from a snapshot, in memory: the agent's model, or its experiment's arm for the subject (sticky: a pure
/// function of experiment id and subject), and the fallback when that model does not serve today.
/// </summary>
public static class Resolver
{
    public const int MaxSubjectLength = 256;

    public static ResolvedModel Resolve(ResolutionSnapshot snapshot, Guid agentId, string? subject, DateOnly today)
    {
        if (!snapshot.Agents.TryGetValue(agentId, out var deployment))
        {
            throw ProblemException.NotFound("Deployment of agent", agentId);
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
        if (target.ServesOn(today))
        {
            return Answer(target, arm, deployment, fallback, fellBack: false, reason: null, snapshot.Version);
        }
        var reason = target.NotServingReason ?? (target.ShutdownDate is { } date ? $"base model shut down on {date:yyyy-MM-dd}" : "not serving");
        if (!fallback.ServesOn(today))
        {
            throw new ProblemException(ProblemKind.Conflict, "No model can serve",
                $"Agent {agentId}'s model does not serve ({reason}) and neither does its fallback ({fallback.NotServingReason ?? "shut down"}). Deploy another model.", "agentId");
        }
        return Answer(fallback, arm, deployment, fallback, fellBack: true, reason, snapshot.Version);
    }

    private static ResolvedModel Answer(ModelTarget target, ExperimentArm? arm, AgentDeployment deployment, ModelTarget fallback, bool fellBack, string? reason, long version) =>
        new(target.Provider, target.ProviderModel, target.BaseUrl, target.ModelId, target.Name, target.Version, arm,
            arm is null ? null : deployment.Experiment!.Id, fallback, fellBack, reason, version);
}
