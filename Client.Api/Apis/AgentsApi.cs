using ObjectaLabs.Orleans.Api.Resolution;
using ObjectaLabs.Orleans.Api.Security;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Api.Apis;

public static class AgentsApi
{
    public static IEndpointRouteBuilder MapAgentsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/organizations/{orgId:guid}/agents").WithTags("Agents")
            .RequireOrganizationScope(ApiKeyScope.Admin);
        group.MapGet("/", ListAgents).WithSummary("The organization's agents; archived ones too with includeArchived=true.");
        group.MapPost("/", CreateAgent).WithSummary("Adds an agent.");
        group.MapGet("/{agentId:guid}", GetAgent).WithSummary("One agent.");
        group.MapPatch("/{agentId:guid}", UpdateAgent).WithSummary("Renames an agent or changes its default base model.");
        group.MapDelete("/{agentId:guid}", ArchiveAgent).WithSummary("Archives an agent: it leaves the listing and takes no new conversations; its conversations and the examples imported from them stay.");
        return app;
    }

    /// <summary>A new agent; the default base model is what it uses when no fine-tuned model is deployed.</summary>
    public sealed record CreateAgentRequest(string? Name, string? DefaultBaseModel);

    /// <summary>New values for an agent; absent fields are unchanged.</summary>
    public sealed record UpdateAgentRequest(string? Name, string? DefaultBaseModel);

    public static async Task<Ok<IReadOnlyList<AgentInfo>>> ListAgents(Guid orgId, IGrainFactory grains, bool? includeArchived) =>
        TypedResults.Ok(await grains.GetGrain<IOrganizationGrain>(orgId).ListAgentsAsync(includeArchived ?? false));

    // Agents' base models are what an agent with no deployment resolves to: after a change, this process reads the new
    // resolution snapshot at once when it holds the organization (the others get it by push within the second).
    public static async Task<Created<AgentInfo>> CreateAgent(Guid orgId, CreateAgentRequest request, IGrainFactory grains, ResolutionCache cache)
    {
        var agent = await grains.GetGrain<IOrganizationGrain>(orgId).AddAgentAsync(
            request.Name ?? throw ProblemException.Invalid("name", "'name' is required."), request.DefaultBaseModel);
        await cache.RefreshIfHeldAsync(orgId);
        return TypedResults.Created($"/v1/organizations/{orgId}/agents/{agent.Id}", agent);
    }

    public static async Task<Ok<AgentInfo>> GetAgent(Guid orgId, Guid agentId, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<IOrganizationGrain>(orgId).GetAgentAsync(agentId));

    public static async Task<Ok<AgentInfo>> UpdateAgent(Guid orgId, Guid agentId, UpdateAgentRequest request, IGrainFactory grains, ResolutionCache cache)
    {
        var agent = await grains.GetGrain<IOrganizationGrain>(orgId).UpdateAgentAsync(agentId, request.Name, request.DefaultBaseModel);
        await cache.RefreshIfHeldAsync(orgId);
        return TypedResults.Ok(agent);
    }

    public static async Task<Ok<AgentInfo>> ArchiveAgent(Guid orgId, Guid agentId, IGrainFactory grains, ResolutionCache cache)
    {
        var agent = await grains.GetGrain<IOrganizationGrain>(orgId).ArchiveAgentAsync(agentId);
        await cache.RefreshIfHeldAsync(orgId);
        return TypedResults.Ok(agent);
    }
}
