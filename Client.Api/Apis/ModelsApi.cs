using ObjectaLabs.Orleans.Models;

namespace ObjectaLabs.Orleans.Api.Apis;

public static class ModelsApi
{
    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/models").WithTags("Models").RequireAuthorization();
        group.MapGet("/", ListModels).WithSummary("The base-model catalog: fine-tunable, tokenizer, token limits, prices per 1M tokens (null = not published) and shutdown dates.");
        return app;
    }

    public static async Task<Ok<IReadOnlyList<ModelDefinition>>> ListModels(IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<IModelCatalogGrain>(0).ListAsync());
}
