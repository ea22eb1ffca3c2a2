using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using ObjectaLabs.Orleans.Api.Hosting;
using ObjectaLabs.Orleans.Api.Problems;
using ObjectaLabs.Orleans.Api.Security;
using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Usage;

namespace ObjectaLabs.Orleans.Api.Usage;

/// <summary>How many usage batches this process took on the fast path (for tests and operators).</summary>
public sealed class UsageFastPathCounter
{
    private long _taken;

    public long Taken => Interlocked.Read(ref _taken);

    internal void Count() => Interlocked.Increment(ref _taken);
}

/// <summary>Marks the usage report endpoint, for <see cref="UsageFastPath"/>.</summary>
public sealed class UsageEndpointMetadata
{
    public static readonly UsageEndpointMetadata Instance = new();
}

/// <summary>
/// The runtime's usage reports taken ahead of the general pipeline, with the same checks and the same answer (as
/// resolution's <see cref="Resolution.ResolveFastPath"/> does):
/// <list type="bullet">
/// <item>Only the plain case: a POST of the usage route with a JSON body and one organization key in
/// <c>Authorization: Bearer</c> whose organization this process holds, checked from memory
/// (<see cref="ApiKeyValidator.TryCheckHeld"/>), naming the route's organization; a path and query of storable text.</item>
/// <item>The same rate limit first (the configured global limiter, acquired for the key's partition; a permit taken here
/// is not charged again if the request is passed on), so a key over its limit costs no parsing. Then the body is read once
/// (<see cref="StorableRequestText.BufferJsonBodyAsync"/>) and must hold only storable text, parse with the configured
/// JSON options and pass <see cref="UsageApi.ToBatch"/>'s checks; then <see cref="UsageSender"/>, as the endpoint does.</item>
/// <item>Anything else (no key or another kind, an organization not held, malformed JSON, an event refused by the checks,
/// a spent limit) goes on to the general pipeline with the body as it was read, and is answered there as every route
/// is: the problem responses come from one place. Once a batch is sent, what the cluster answers (a receipt, a refused
/// model, an unavailable silo) is answered as the endpoint answers it, through the same exception handler.</item>
/// </list>
/// What it skips is per-request machinery: creating the authentication handler, claims and policy evaluation, the endpoint
/// filter and argument binding. A report is 100 events of parsing, so that machinery is a fifth of a report's cost
/// besides the parsing (measured with <c>bench/run usage</c>).
/// </summary>
public static class UsageFastPath
{
    public static IApplicationBuilder UseUsageFastPath(this IApplicationBuilder app)
    {
        var services = app.ApplicationServices;
        var validator = services.GetRequiredService<ApiKeyValidator>();
        var sender = services.GetRequiredService<UsageSender>();
        var clock = services.GetRequiredService<TimeProvider>();
        var limiter = services.GetRequiredService<IOptions<RateLimiterOptions>>().Value.GlobalLimiter;
        var json = services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(UsageFastPath));
        var counter = services.GetRequiredService<UsageFastPathCounter>();
        JsonTypeInfo<UsageApi.UsageBatchRequest>? requestInfo = null;
        JsonTypeInfo<UsageReceipt>? receiptInfo = null;
        return app.Use(async (http, next) =>
        {
            if (!IsPlain(http, validator, out var organizationId, out var caller))
            {
                await next(http);
                return;
            }
            // The permit first, so a key over its limit costs no parsing; the general pipeline refuses it with its Retry-After.
            http.User = caller.Principal;
            if (!HeldKeyRequests.TryAcquire(http, limiter))
            {
                await next(http);
                return;
            }
            http.Items[RateLimiting.ChargedItem] = true;
            requestInfo ??= (JsonTypeInfo<UsageApi.UsageBatchRequest>)json.GetTypeInfo(typeof(UsageApi.UsageBatchRequest));
            receiptInfo ??= (JsonTypeInfo<UsageReceipt>)json.GetTypeInfo(typeof(UsageReceipt));
            var body = await StorableRequestText.BufferJsonBodyAsync(http);
            if (TryRead(body.Span, requestInfo, clock, logger) is not { } batch)
            {
                await next(http);
                return;
            }
            counter.Count();
            var outcome = await sender.SendAsync(organizationId, batch);
            var receipt = outcome.Receipt ?? throw ProblemException.Invalid(outcome.RefusedField ?? "events", outcome.RefusedBecause ?? "The batch was refused.");
            http.Response.StatusCode = receipt.Duplicate ? StatusCodes.Status200OK : StatusCodes.Status202Accepted;
            await http.Response.WriteAsJsonAsync(receipt, receiptInfo, contentType: null, http.RequestAborted);
        });
    }

    private static bool IsPlain(HttpContext http, ApiKeyValidator validator, out Guid organizationId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Caller? caller)
    {
        organizationId = Guid.Empty;
        caller = null;
        var request = http.Request;
        return HttpMethods.IsPost(request.Method) && http.GetEndpoint()?.Metadata.GetMetadata<UsageEndpointMetadata>() is not null
            && request.ContentLength != 0 && request.HasJsonContentType() && StorableRequestText.PathAndQueryStorable(request)
            && HeldKeyRequests.TryGetCaller(http, validator, out organizationId, out caller);
    }

    /// <summary>The batch, or null when the general pipeline should answer: unstorable text, malformed JSON, a refused event.</summary>
    private static UsageBatch? TryRead(ReadOnlySpan<byte> body, JsonTypeInfo<UsageApi.UsageBatchRequest> requestInfo, TimeProvider clock, ILogger logger)
    {
        if (body.Contains((byte)'\\') && StorableRequestText.Find(body) is not null)
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize(body, requestInfo) is { } request ? UsageApi.ToBatch(request, clock.GetUtcNow()) : null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Never an answer from here: the general pipeline answers (and logs) whatever this was.
            logger.LogDebug(e, "Usage's fast path passed a report on");
            return null;
        }
    }
}
