using ObjectaLabs.Orleans.Api.Resolution;
using ObjectaLabs.Orleans.Api.Security;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Api.Apis;

public static class ApiKeysApi
{
    public static IEndpointRouteBuilder MapApiKeysApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/organizations/{orgId:guid}/api-keys").WithTags("API keys")
            .RequireOrganizationScope(ApiKeyScope.Admin);
        group.MapGet("/", ListKeys).WithSummary("Every key: prefix, scope, created, last used, revoked. Never the secret.");
        group.MapPost("/", IssueKey).WithSummary("Issues a key. The secret is in this answer only.");
        group.MapDelete("/{keyId}", RevokeKey).WithSummary("Revokes a key at once.");
        return app;
    }

    /// <summary>A new key: 'admin' manages the organization, 'runtime' is for the agent runtime.</summary>
    public sealed record IssueKeyRequest(string? Name, ApiKeyScope? Scope);

    /// <summary>
    /// Keys checked from memory report their use every 20 s; this process reports its own first, so the listing is
    /// current for the keys it checked (other API processes' uses appear within 20 s).
    /// </summary>
    public static async Task<Ok<IReadOnlyList<ApiKeyInfo>>> ListKeys(Guid orgId, IGrainFactory grains, ResolutionCache held)
    {
        await held.ReportKeyUseAsync(orgId);
        return TypedResults.Ok(await grains.GetGrain<IOrganizationGrain>(orgId).ListApiKeysAsync());
    }

    public static async Task<Created<IssuedApiKey>> IssueKey(Guid orgId, IssueKeyRequest request, IGrainFactory grains, ApiKeyValidator validator)
    {
        var issued = await grains.GetGrain<IOrganizationGrain>(orgId).IssueApiKeyAsync(
            request.Name ?? throw ProblemException.Invalid("name", "'name' is required."),
            request.Scope ?? throw ProblemException.Invalid("scope", "'scope' is required: 'admin' or 'runtime'."));
        validator.Issued(issued);
        return TypedResults.Created($"/v1/organizations/{orgId}/api-keys/{issued.Info.Id}", issued);
    }

    public static async Task<Ok<ApiKeyInfo>> RevokeKey(Guid orgId, string keyId, IGrainFactory grains, ApiKeyValidator validator, ResolutionCache held)
    {
        // The key's use checked from memory here is reported before it leaves this process's memory.
        await held.ReportKeyUseAsync(orgId);
        var revoked = await grains.GetGrain<IOrganizationGrain>(orgId).RevokeApiKeyAsync(keyId);
        validator.Forget(orgId, keyId);
        return TypedResults.Ok(revoked);
    }
}
