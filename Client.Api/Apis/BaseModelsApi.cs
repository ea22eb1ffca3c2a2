using ObjectaLabs.Orleans.Catalog;

namespace ObjectaLabs.Orleans.Api.Apis;

public static class BaseModelsApi
{
    public static IEndpointRouteBuilder MapBaseModelsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/base-models").WithTags("Base models").RequireAuthorization();
        group.MapGet("/", ListModels).WithSummary("The base-model catalog: fine-tunable, tokenizer, token limits, prices per 1M tokens (null = not published) and shutdown dates.");
        return app;
    }

    public static async Task<Ok<IReadOnlyList<BaseModel>>> ListModels(IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<IBaseModelCatalogGrain>(0).ListAsync());
}
