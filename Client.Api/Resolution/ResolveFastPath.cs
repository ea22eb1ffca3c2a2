using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using ObjectaLabs.Orleans.Api.Problems;
using ObjectaLabs.Orleans.Api.Security;

namespace ObjectaLabs.Orleans.Api.Resolution;

/// <summary>How many resolutions this process answered on the fast path (for tests and operators).</summary>
public sealed class ResolveFastPathCounter
{
    private long _answered;

    public long Answered => Interlocked.Read(ref _answered);

    internal void Count() => Interlocked.Increment(ref _answered);
}

/// <summary>Marks the resolve endpoint, for <see cref="ResolveFastPath"/>.</summary>
public sealed class ResolveEndpointMetadata
{
    public static readonly ResolveEndpointMetadata Instance = new();
}

/// <summary>
/// The runtime's hot path answered ahead of the general pipeline, with the same checks and the same answer:
/// <list type="bullet">
/// <item>Only the plain case: a GET of the resolve route with one organization key in <c>Authorization: Bearer</c> whose
/// organization this process holds, checked from memory (<see cref="ApiKeyValidator.TryCheckHeld"/>), naming the route's
/// organization.</item>
/// <item>The same rate limit (the configured global limiter, acquired for the key's resolution partition) and the same
/// storable-text check of the query, then <see cref="Resolver"/> and the configured JSON type information.</item>
/// <item>Anything else (no key or another kind, an organization not held, a refused key, a spent limit, a refusal from
/// the resolver, an exception) goes on to the general pipeline, which answers it as it answers every route: the problem
/// responses come from one place. No response is started before the answer is known.</item>
/// </list>
/// What it skips is per-request machinery: creating the authentication handler, claims and policy evaluation, the endpoint
/// filter and argument binding (measured with <c>bench/run resolve</c>).
/// </summary>
public static class ResolveFastPath
{
    public static IApplicationBuilder UseResolveFastPath(this IApplicationBuilder app)
    {
        var services = app.ApplicationServices;
        var validator = services.GetRequiredService<ApiKeyValidator>();
        var cache = services.GetRequiredService<ResolutionCache>();
        var clock = services.GetRequiredService<TimeProvider>();
        var limiter = services.GetRequiredService<IOptions<RateLimiterOptions>>().Value.GlobalLimiter;
        var json = services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ResolveFastPath));
        var counter = services.GetRequiredService<ResolveFastPathCounter>();
        JsonTypeInfo<ResolvedModel>? typeInfo = null;
        return app.Use(async (http, next) =>
        {
            typeInfo ??= (JsonTypeInfo<ResolvedModel>)json.GetTypeInfo(typeof(ResolvedModel));
            var answer = TryAnswer(http, validator, cache, clock, limiter, logger);
            if (answer is null)
            {
                await next(http);
                return;
            }
            counter.Count();
            http.Response.StatusCode = StatusCodes.Status200OK;
            http.Response.ContentType = "application/json; charset=utf-8";
            await JsonSerializer.SerializeAsync(http.Response.Body, answer, typeInfo, http.RequestAborted);
        });
    }

    private static ResolvedModel? TryAnswer(HttpContext http, ApiKeyValidator validator, ResolutionCache cache, TimeProvider clock,
        System.Threading.RateLimiting.PartitionedRateLimiter<HttpContext>? limiter, ILogger logger)
    {
        var request = http.Request;
        if (!HttpMethods.IsGet(request.Method) || http.GetEndpoint()?.Metadata.GetMetadata<ResolveEndpointMetadata>() is null)
        {
            return null;
        }
        try
        {
            if (!HeldKeyRequests.TryGetCaller(http, validator, out var orgId, out var caller)
                || request.RouteValues["agentId"] is not string agent || !Guid.TryParse(agent, out var agentId)
                || !StorableRequestText.IsStorable(request)
                || request.Query["subject"] is { Count: > 1 }
                || !cache.TryGetHeld(orgId, out var held))
            {
                return null;
            }
            http.User = caller.Principal;
            if (!HeldKeyRequests.TryAcquire(http, limiter))
            {
                return null;
            }
            return Resolver.Resolve(held.Snapshot, agentId, request.Query["subject"].ToString() is { Length: > 0 } subject ? subject : null,
                clock.GetUtcNow());
        }
        catch (Exception e)
        {
            // Never an answer from here: the general pipeline answers (and logs) whatever this was.
            logger.LogDebug(e, "Resolution's fast path passed a request on");
            return null;
        }
    }
}
