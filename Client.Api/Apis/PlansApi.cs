using ObjectaLabs.Orleans.Plans;

namespace ObjectaLabs.Orleans.Api.Apis;

public static class PlansApi
{
    public static IEndpointRouteBuilder MapPlansApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/plans").WithTags("Plans").RequireAuthorization();
        group.MapGet("/", ListPlans).WithSummary("The plans on offer and their limits.");
        return app;
    }

    public static async Task<Ok<IReadOnlyList<PlanDefinition>>> ListPlans(IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<IPlanCatalogGrain>(0).ListAsync());
}
