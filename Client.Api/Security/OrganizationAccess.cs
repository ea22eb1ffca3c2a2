using ObjectaLabs.Orleans.Organizations;

namespace ObjectaLabs.Orleans.Api.Security;

/// <summary>
/// Guards every <c>/v1/organizations/{orgId}/…</c> route: the platform admin may act on any
/// organization; an organization key only on its own, and another organization answers 404 exactly as a
/// missing one would, so ids cannot be probed. A key whose scope is too narrow gets 403.
/// </summary>
public static class OrganizationAccess
{
    public const string RouteParameter = "orgId";
    public const string PlatformPolicy = "platform";

    public static TBuilder RequireOrganizationScope<TBuilder>(this TBuilder builder, ApiKeyScope scope) where TBuilder : IEndpointConventionBuilder
    {
        builder.RequireAuthorization();
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var user = http.User;
            if (user.IsPlatformAdmin())
            {
                return await next(context);
            }
            if (!Guid.TryParse(http.Request.RouteValues[RouteParameter]?.ToString(), out var orgId) || user.OrganizationId() != orgId)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Organization not found",
                    detail: $"No organization with id '{http.Request.RouteValues[RouteParameter]}' exists.");
            }
            if (scope == ApiKeyScope.Admin && user.Scope() != ApiKeyScope.Admin)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                    detail: $"This operation needs an 'admin' key; this key's scope is '{user.Scope()?.ToString().ToLowerInvariant()}'.");
            }
            return await next(context);
        });
        return builder;
    }
}
