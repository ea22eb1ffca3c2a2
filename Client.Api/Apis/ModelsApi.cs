using ObjectaLabs.Orleans.Api.Security;
using ObjectaLabs.Orleans.Models;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Api.Apis;

/// <summary>The organization's fine-tuned models, as finished training jobs registered them: cards, lifecycle, the default.</summary>
public static class ModelsApi
{
    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/organizations/{orgId:guid}/models").WithTags("Models")
            .RequireOrganizationScope(ApiKeyScope.Admin);
        group.MapGet("/", List).WithSummary("The organization's models as cards, oldest first: name and version, base model, status, warnings (status, base-model shutdown 30 and 7 days ahead), the job it came from, this month's usage. Deleted ones only with includeDeleted=true.");
        group.MapGet("/default", GetDefault).WithSummary("The organization's default model (null when none).");
        group.MapPut("/default", SetDefault).WithSummary("Makes an active model the organization's default; null clears it. A default that stops serving (archived, deleted, retired) is cleared.");
        group.MapGet("/{modelId:guid}", Get).WithSummary("One model's card.");
        group.MapPut("/{modelId:guid}/serving", SetServing).WithSummary("Records the state of the model's dedicated endpoint, for providers that serve fine-tunes only on one (Together's dedicated endpoints; sandbox/sandbox-dedicated simulates one): noEndpoint, endpointStarting or ready, with the endpoint's name. Resolution sends traffic to the model only while it is ready and falls back otherwise. Refused (409) for models served per token.");
        group.MapPatch("/{modelId:guid}", Update).WithSummary("Renames, describes, or moves a model: active ⇄ deprecated, either → archived, archived → active, any → deleted (final). Retired is set when the base model shuts down.");
        return app;
    }

    /// <summary>Fields to change; an absent one is left as it is. <c>status</c>: active, deprecated, archived or deleted.</summary>
    public sealed record UpdateModelRequest(string? Name, string? Description, ModelStatus? Status);

    /// <summary>The dedicated endpoint's state; <c>endpoint</c> (its name at the provider) is required unless the state is noEndpoint.</summary>
    public sealed record ServingRequest(ServingState? State, string? Endpoint);

    public sealed record DefaultModelRequest(Guid? ModelId);

    public sealed record DefaultModel(Guid? ModelId);

    public static async Task<Ok<IReadOnlyList<ModelCard>>> List(Guid orgId, IGrainFactory grains, bool? includeDeleted) =>
        TypedResults.Ok(await grains.GetGrain<IModelRegistryGrain>(orgId).ListCardsAsync(includeDeleted ?? false));

    public static async Task<Ok<ModelCard>> Get(Guid orgId, Guid modelId, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<IModelRegistryGrain>(orgId).GetCardAsync(modelId));

    public static async Task<Ok<ModelCard>> Update(Guid orgId, Guid modelId, UpdateModelRequest request, IGrainFactory grains, ObjectaLabs.Orleans.Api.Resolution.ResolutionCache cache)
    {
        if (request.Status == ModelStatus.Retired)
        {
            throw ProblemException.Invalid("status", "'retired' is set by the model itself when its base model shuts down; choose active, deprecated, archived or deleted.");
        }
        var registry = grains.GetGrain<IModelRegistryGrain>(orgId);
        // The registry answers not found for another organization's model before anything changes.
        await registry.GetCardAsync(modelId);
        await grains.GetGrain<IFineTunedModelGrain>(modelId).UpdateAsync(orgId, new ModelUpdate(request.Name, request.Description, request.Status));
        await cache.RefreshIfHeldAsync(orgId);
        return TypedResults.Ok(await registry.GetCardAsync(modelId));
    }

    public static async Task<Ok<ModelCard>> SetServing(Guid orgId, Guid modelId, ServingRequest request, IGrainFactory grains, ObjectaLabs.Orleans.Api.Resolution.ResolutionCache cache)
    {
        var state = request.State ?? throw ProblemException.Invalid("state", "'state' is required: noEndpoint, endpointStarting or ready.");
        var registry = grains.GetGrain<IModelRegistryGrain>(orgId);
        await registry.GetCardAsync(modelId);
        await grains.GetGrain<IFineTunedModelGrain>(modelId).SetServingAsync(orgId, new ServingUpdate(state, request.Endpoint));
        await cache.RefreshIfHeldAsync(orgId);
        return TypedResults.Ok(await registry.GetCardAsync(modelId));
    }

    public static async Task<Ok<DefaultModel>> GetDefault(Guid orgId, IGrainFactory grains) =>
        TypedResults.Ok(new DefaultModel(await grains.GetGrain<IModelRegistryGrain>(orgId).GetDefaultAsync()));

    public static async Task<Ok<DefaultModel>> SetDefault(Guid orgId, DefaultModelRequest request, IGrainFactory grains, ObjectaLabs.Orleans.Api.Resolution.ResolutionCache cache)
    {
        // The default is what agents with no deployment resolve to.
        var modelId = await grains.GetGrain<IModelRegistryGrain>(orgId).SetDefaultAsync(request.ModelId);
        await cache.RefreshIfHeldAsync(orgId);
        return TypedResults.Ok(new DefaultModel(modelId));
    }
}
