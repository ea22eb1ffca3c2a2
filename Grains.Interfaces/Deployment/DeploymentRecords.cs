using ObjectaLabs.Orleans.FewShot;
using ObjectaLabs.Orleans.Models;

namespace ObjectaLabs.Orleans.Deployment;

/// <summary>A model to send traffic to: one of the organization's fine-tuned models, or a catalog base model. Exactly one is set.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.model-choice")]
public sealed record class ModelChoice(Guid? ModelId, string? BaseModel)
{
    public static ModelChoice FineTuned(Guid modelId) => new(modelId, null);

    public static ModelChoice Base(string baseModel) => new(null, baseModel);

    public override string ToString() => ModelId is { } id ? $"model {id}" : $"base model {BaseModel}";
}

/// <summary>What an experiment's sticky assignment hashes: the conversation, or the end user across conversations.</summary>
public enum SubjectKind
{
    Conversation = 0,
    EndUser = 1,
}

/// <summary>An experiment's life: running until stopped (traffic back to the control) or promoted (the candidate becomes the agent's model).</summary>
public enum ExperimentStatus
{
    Running = 0,
    Stopped = 1,
    Promoted = 2,
}

/// <summary>
/// An A/B experiment between a control and a candidate: the candidate's share of subjects (sticky: see
/// <see cref="StickyAssignment"/>), what a subject is, the margin that counts as a real difference and the minimum
/// sample per arm before any verdict.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.experiment")]
public sealed record class Experiment(
    Guid Id,
    ModelChoice Control,
    ModelChoice Candidate,
    double CandidateShare,
    SubjectKind Subject,
    double Margin,
    int MinimumSample,
    ExperimentStatus Status,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    ExperimentOutcome? Outcome = null);

/// <summary>
/// One agent's deployment: the model its traffic goes to, the fallback when that model cannot serve (the agent's base
/// model unless set), and the running experiment, if any (its arms then decide the model).
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.agent-deployment")]
public sealed record class AgentDeployment(
    Guid AgentId,
    ModelChoice Model,
    ModelChoice Fallback,
    Experiment? Experiment,
    IReadOnlyList<Experiment> PastExperiments,
    DateTimeOffset UpdatedAt);

/// <summary>An organization's deployments, with a version that grows with every change (what resolution snapshots and compares).</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.deployments")]
public sealed record class OrganizationDeployments(Guid OrganizationId, long Version, IReadOnlyList<AgentDeployment> Agents);

/// <summary>Deploys a model to an agent; a null fallback is the agent's base model.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.deploy-request")]
public sealed record class DeployRequest(ModelChoice Model, ModelChoice? Fallback);

/// <summary>Starts an experiment on an agent; a null control is the agent's current model (or its base model when none is deployed).</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.new-experiment")]
public sealed record class NewExperiment(ModelChoice Candidate, ModelChoice? Control, double CandidateShare, SubjectKind Subject, double Margin, int MinimumSample);

/// <summary>
/// An organization's deployments, keyed by the organization id: per agent, a model or an experiment and a fallback.
/// Every change is checked first (the agent, the models, the plan's A/B testing) and changes nothing when refused.
/// </summary>
[Alias("objectalabs.IDeploymentsGrain")]
public interface IDeploymentsGrain : IResolutionPublisher
{
    /// <summary>All of the organization's deployments and their version.</summary>
    [Alias("get-all"), global::Orleans.Concurrency.ReadOnly]
    ValueTask<OrganizationDeployments> GetAllAsync();

    /// <summary>One agent's deployment (not found when the agent has none, or is another organization's).</summary>
    [Alias("get")]
    Task<AgentDeployment> GetAsync(Guid agentId);

    /// <summary>Sends the agent's traffic to a model (active fine-tuned model of the organization, or a catalog base model that serves today).</summary>
    [Alias("deploy")]
    Task<AgentDeployment> DeployAsync(Guid agentId, DeployRequest request);

    /// <summary>Starts an experiment (plans with A/B testing only; one running experiment per agent).</summary>
    [Alias("start-experiment")]
    Task<AgentDeployment> StartExperimentAsync(Guid agentId, NewExperiment request);

    /// <summary>Changes the running experiment's candidate share; only subjects in the changed band move.</summary>
    [Alias("set-split")]
    Task<AgentDeployment> SetSplitAsync(Guid agentId, double candidateShare);

    /// <summary>Stops the running experiment: all traffic goes back to the control; the verdicts at this moment are kept with it.</summary>
    [Alias("stop-experiment")]
    Task<AgentDeployment> StopExperimentAsync(Guid agentId);

    /// <summary>
    /// Promotes the running experiment's candidate to the agent's model, keeping the verdicts with it. Refused (409) when a
    /// verdict says the candidate is worse or the split does not match the configured one, unless <paramref name="force"/>.
    /// </summary>
    [Alias("promote")]
    Task<AgentDeployment> PromoteAsync(Guid agentId, bool force = false);

    /// <summary>The results of the agent's running experiment, or of a past one by id.</summary>
    [Alias("experiment-results")]
    Task<ExperimentResults> GetExperimentResultsAsync(Guid agentId, Guid? experimentId);

    /// <summary>The agent's few-shot template (not found when it has none).</summary>
    [Alias("get-few-shot")]
    Task<FewShotTemplate> GetFewShotAsync(Guid agentId);

    /// <summary>Sets the agent's few-shot template, checked whole first (a fixed template's examples must be validated examples of the organization).</summary>
    [Alias("set-few-shot")]
    Task<FewShotTemplate> SetFewShotAsync(Guid agentId, FewShotTemplate template);

    /// <summary>Removes the agent's few-shot template (not found when it has none).</summary>
    [Alias("remove-few-shot")]
    Task RemoveFewShotAsync(Guid agentId);
}
