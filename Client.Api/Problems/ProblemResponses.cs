using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing.Patterns;

namespace ObjectaLabs.Orleans.Api.Problems;

/// <summary>
/// Declares, on every endpoint of a group, the problem responses the pipeline can give it, read off the
/// endpoint's own metadata once all its conventions ran, so the OpenAPI document says what the code does:
/// <list type="bullet">
/// <item>400 on every route (any query parameter, and any JSON body, is checked for text that cannot be stored);</item>
/// <item>401, 403 and 429 where a key is required (no key, a narrow scope or a plan rule, a rate limit);</item>
/// <item>404 where the path names an entity (another organization's answers exactly as a missing one);</item>
/// <item>409 on changes (a conflict with current state), 413 and 415 where a body is read;</item>
/// <item>503 on every route (database or cluster unreachable; with Retry-After).</item>
/// </list>
/// A response an endpoint declares itself is kept as it is.
/// </summary>
public static class ProblemResponses
{
    private static readonly string[] ProblemJson = ["application/problem+json"];

    public static TBuilder WithProblemResponses<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.Finally(endpoint =>
        {
            var metadata = endpoint.Metadata;
            var declared = metadata.OfType<IProducesResponseTypeMetadata>().Select(m => m.StatusCode).ToHashSet();
            var methods = metadata.OfType<IHttpMethodMetadata>().SelectMany(m => m.HttpMethods).ToList();
            var secured = metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any();
            var pattern = (endpoint as RouteEndpointBuilder)?.RoutePattern;
            var hasBody = metadata.OfType<IAcceptsMetadata>().Any();

            Add(StatusCodes.Status400BadRequest);
            if (secured)
            {
                Add(StatusCodes.Status401Unauthorized);
                Add(StatusCodes.Status403Forbidden);
                Add(StatusCodes.Status429TooManyRequests);
            }
            if (pattern is { Parameters.Count: > 0 })
            {
                Add(StatusCodes.Status404NotFound);
            }
            if (methods.Any(m => m is "POST" or "PUT" or "PATCH" or "DELETE"))
            {
                Add(StatusCodes.Status409Conflict);
            }
            if (hasBody)
            {
                Add(StatusCodes.Status413PayloadTooLarge);
                Add(StatusCodes.Status415UnsupportedMediaType);
            }
            Add(StatusCodes.Status503ServiceUnavailable);

            void Add(int status)
            {
                if (declared.Add(status))
                {
                    metadata.Add(new ProducesResponseTypeMetadata(status, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), ProblemJson));
                }
            }
        });
        return builder;
    }
}
