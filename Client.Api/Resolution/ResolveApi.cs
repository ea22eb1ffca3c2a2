using ObjectaLabs.Orleans.Api.Security;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Api.Resolution;

/// <summary>The runtime's hot path: which model for this agent and this subject, answered from this process's memory.</summary>
public static class ResolveApi
{
    public static IEndpointRouteBuilder MapResolveApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/organizations/{orgId:guid}/agents/{agentId:guid}").WithTags("Resolution")
            .RequireOrganizationScope(ApiKeyScope.Runtime)
            .MapGet("/resolve", Resolve)
            .WithMetadata(ResolveEndpointMetadata.Instance)
            .WithSummary("The model to call for this agent and subject (conversation or end-user id): provider, provider model id, OpenAI-compatible base URL; the experiment arm (sticky) when one runs; the fallback, and why it was chosen when it was. Runtime or admin key.");
        return app;
    }

    public static async Task<Ok<ResolvedModel>> Resolve(Guid orgId, Guid agentId, string? subject, HttpRequest request, ResolutionCache cache, TimeProvider clock)
    {
        if (request.Query["subject"].Count > 1)
        {
            // Bound as one comma-joined string otherwise: two subjects are one ambiguous request, not a third subject.
            throw ProblemException.Invalid("subject", "'subject' is given more than once; send one conversation or end-user id.");
        }
        var snapshot = await cache.GetAsync(orgId);
        return TypedResults.Ok(Resolver.Resolve(snapshot, agentId, subject, clock.GetUtcNow()));
    }
}
