using ObjectaLabs.Orleans.Api.Security;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Providers;

namespace ObjectaLabs.Orleans.Api.Apis;

/// <summary>An Enterprise organization's own provider keys: set, replaced, removed; never shown again.</summary>
public static class ProviderKeysApi
{
    public static IEndpointRouteBuilder MapProviderKeysApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/organizations/{orgId:guid}/provider-keys").WithTags("Provider keys")
            .RequireOrganizationScope(ApiKeyScope.Admin);
        group.MapGet("/", ListKeys).WithSummary("Each provider that takes a key: whether the organization set its own, its last four characters and fingerprint. Never the key.");
        group.MapPut("/{provider}", SetKey).WithSummary("Sets or replaces the organization's own key for 'openai' or 'together' (Enterprise plan). Stored encrypted; never returned.");
        group.MapDelete("/{provider}", RemoveKey).WithSummary("Removes the organization's own key; jobs then use the platform's account, if configured.");
        return app;
    }

    /// <summary>The provider's API key. It is encrypted before it is stored and never returned.</summary>
    public sealed record SetProviderKeyRequest(string? ApiKey);

    public static async Task<Ok<IReadOnlyList<ProviderKeyInfo>>> ListKeys(Guid orgId, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<IProviderKeysGrain>(orgId).ListAsync());

    public static async Task<Ok<ProviderKeyInfo>> SetKey(Guid orgId, string provider, SetProviderKeyRequest request, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<IProviderKeysGrain>(orgId).SetAsync(
            provider, request.ApiKey ?? throw ProblemException.Invalid("apiKey", "'apiKey' is required.")));

    public static async Task<Ok<ProviderKeyInfo>> RemoveKey(Guid orgId, string provider, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<IProviderKeysGrain>(orgId).RemoveAsync(provider));
}
