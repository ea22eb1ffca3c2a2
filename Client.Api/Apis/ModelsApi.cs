using ObjectaLabs.Orleans.Api.Security;
using ObjectaLabs.Orleans.Models;
using ObjectaLabs.Orleans.Organizations;

namespace ObjectaLabs.Orleans.Api.Apis;

/// <summary>The organization's fine-tuned models, as finished training jobs registered them.</summary>
public static class ModelsApi
{
    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/organizations/{orgId:guid}/models").WithTags("Models")
            .RequireOrganizationScope(ApiKeyScope.Admin);
        group.MapGet("/", List).WithSummary("The organization's fine-tuned models, oldest first: name and version, base model, status, the job and dataset they came from.");
        group.MapGet("/{modelId:guid}", Get).WithSummary("One fine-tuned model.");
        return app;
    }

    public static async Task<Ok<IReadOnlyList<FineTunedModelInfo>>> List(Guid orgId, IGrainFactory grains)
    {
        var ids = await grains.GetGrain<IModelRegistryGrain>(orgId).ListModelIdsAsync();
        var models = await Task.WhenAll(ids.Select(id => grains.GetGrain<IFineTunedModelGrain>(id).GetAsync(orgId).AsTask()));
        return TypedResults.Ok<IReadOnlyList<FineTunedModelInfo>>(models);
    }

    public static async Task<Ok<FineTunedModelInfo>> Get(Guid orgId, Guid modelId, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<IFineTunedModelGrain>(modelId).GetAsync(orgId));
}
