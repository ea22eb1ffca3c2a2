using ObjectaLabs.Orleans.Api.Resolution;
using ObjectaLabs.Orleans.Api.Security;
using ObjectaLabs.Orleans.Deployment;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Api.Deployment;

/// <summary>Agents' deployments and experiments: which model an agent's traffic goes to, its fallback, and A/B tests; the organization's admin key.</summary>
public static class DeploymentsApi
{
    public static IEndpointRouteBuilder MapDeploymentsApi(this IEndpointRouteBuilder app)
    {
        var organization = app.MapGroup("/v1/organizations/{orgId:guid}").WithTags("Deployments")
            .RequireOrganizationScope(ApiKeyScope.Admin);
        organization.MapGet("/deployments", List).WithSummary("Every agent's deployment, and the version that grows with each change.");
        var agent = organization.MapGroup("/agents/{agentId:guid}/deployment");
        agent.MapGet("/", Get).WithSummary("The agent's deployment: model, fallback, running experiment and past ones.");
        agent.MapPut("/", Deploy).WithSummary("Sends the agent's traffic to a model: {modelId} (an active fine-tuned model) or {baseModel}; the fallback is the agent's base model unless given.");
        agent.MapPost("/experiment", StartExperiment).WithSummary("Starts an A/B experiment between the control (the agent's current model unless given) and a candidate (Business and Enterprise plans).");
        agent.MapPut("/experiment/split", SetSplit).WithSummary("Changes the candidate's share; sticky assignment moves only the subjects in the changed band.");
        agent.MapPost("/experiment/stop", Stop).WithSummary("Stops the experiment: all traffic goes to the control; its verdicts at this moment are kept with it.");
        agent.MapPost("/experiment/promote", Promote).WithSummary("Promotes the candidate: it becomes the agent's model; its verdicts at this moment are kept with it. Refused (409) when a verdict says the candidate is worse or the split does not match the configured one, unless force=true.");
        agent.MapGet("/experiment/results", Results).WithSummary("The running experiment's results (or a past one's, by experimentId): per arm usage (fallback-served requests apart), success rate and satisfaction with anytime-valid intervals and a verdict each (notEnoughData, candidateBetter, candidateWorse, noDifference), and the sample-ratio check. Figures trail usage reports by a few seconds.");
        return app;
    }

    /// <summary>A model: exactly one of a fine-tuned <c>modelId</c> or a catalog <c>baseModel</c>.</summary>
    public sealed record ModelChoiceRequest(Guid? ModelId, string? BaseModel);

    public sealed record DeployBody(ModelChoiceRequest? Model, ModelChoiceRequest? Fallback);

    /// <summary>
    /// <c>candidateShare</c>: the candidate's fraction of subjects (0–1, exclusive); <c>subject</c>: conversation (default) or endUser;
    /// <c>margin</c>: the difference that counts as real (default 0.02); <c>minimumSample</c>: per arm before any verdict (default 1,000).
    /// </summary>
    public sealed record ExperimentBody(ModelChoiceRequest? Candidate, ModelChoiceRequest? Control, double? CandidateShare, SubjectKind? Subject, double? Margin, int? MinimumSample);

    public sealed record SplitBody(double? CandidateShare);

    public const double DefaultMargin = 0.02;
    public const int DefaultMinimumSample = 1_000;

    public static async Task<Ok<OrganizationDeployments>> List(Guid orgId, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<IDeploymentsGrain>(orgId).GetAllAsync());

    public static async Task<Ok<AgentDeployment>> Get(Guid orgId, Guid agentId, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<IDeploymentsGrain>(orgId).GetAsync(agentId));

    public static async Task<Ok<AgentDeployment>> Deploy(Guid orgId, Guid agentId, DeployBody body, IGrainFactory grains, ResolutionCache cache) =>
        await Changed(orgId, cache, grains.GetGrain<IDeploymentsGrain>(orgId).DeployAsync(agentId,
            new DeployRequest(Choice(body.Model, "model") ?? throw ProblemException.Invalid("model", "'model' is required: {\"modelId\": …} or {\"baseModel\": …}."),
                Choice(body.Fallback, "fallback"))));

    public static async Task<Ok<AgentDeployment>> StartExperiment(Guid orgId, Guid agentId, ExperimentBody body, IGrainFactory grains, ResolutionCache cache) =>
        await Changed(orgId, cache, grains.GetGrain<IDeploymentsGrain>(orgId).StartExperimentAsync(agentId, new NewExperiment(
            Choice(body.Candidate, "candidate") ?? throw ProblemException.Invalid("candidate", "'candidate' is required: {\"modelId\": …} or {\"baseModel\": …}."),
            Choice(body.Control, "control"),
            body.CandidateShare ?? throw ProblemException.Invalid("candidateShare", "'candidateShare' is required: the candidate's fraction of subjects, e.g. 0.1."),
            body.Subject ?? SubjectKind.Conversation,
            body.Margin ?? DefaultMargin,
            body.MinimumSample ?? DefaultMinimumSample)));

    public static async Task<Ok<AgentDeployment>> SetSplit(Guid orgId, Guid agentId, SplitBody body, IGrainFactory grains, ResolutionCache cache) =>
        await Changed(orgId, cache, grains.GetGrain<IDeploymentsGrain>(orgId).SetSplitAsync(agentId,
            body.CandidateShare ?? throw ProblemException.Invalid("candidateShare", "'candidateShare' is required.")));

    public static async Task<Ok<AgentDeployment>> Stop(Guid orgId, Guid agentId, IGrainFactory grains, ResolutionCache cache) =>
        await Changed(orgId, cache, grains.GetGrain<IDeploymentsGrain>(orgId).StopExperimentAsync(agentId));

    public static async Task<Ok<AgentDeployment>> Promote(Guid orgId, Guid agentId, bool? force, IGrainFactory grains, ResolutionCache cache) =>
        await Changed(orgId, cache, grains.GetGrain<IDeploymentsGrain>(orgId).PromoteAsync(agentId, force ?? false));

    public static async Task<Ok<ExperimentResults>> Results(Guid orgId, Guid agentId, Guid? experimentId, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<IDeploymentsGrain>(orgId).GetExperimentResultsAsync(agentId, experimentId));

    /// <summary>Answers the change once this process's own snapshot has it (the other API processes get it by push).</summary>
    private static async Task<Ok<AgentDeployment>> Changed(Guid orgId, ResolutionCache cache, Task<AgentDeployment> change)
    {
        var deployment = await change;
        await cache.RefreshIfHeldAsync(orgId);
        return TypedResults.Ok(deployment);
    }

    private static ModelChoice? Choice(ModelChoiceRequest? request, string field)
    {
        if (request is null)
        {
            return null;
        }
        if ((request.ModelId is null) == string.IsNullOrWhiteSpace(request.BaseModel))
        {
            throw ProblemException.Invalid(field, $"'{field}' names exactly one of 'modelId' (a fine-tuned model) or 'baseModel' (a catalog model).");
        }
        return request.ModelId is { } id ? ModelChoice.FineTuned(id) : ModelChoice.Base(request.BaseModel!.Trim());
    }
}
