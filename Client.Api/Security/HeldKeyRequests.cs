using System.Diagnostics.CodeAnalysis;
using System.Threading.RateLimiting;

namespace ObjectaLabs.Orleans.Api.Security;

/// <summary>
/// What the runtime's fast paths (<c>ResolveFastPath</c>, <c>UsageFastPath</c>) accept ahead of the general pipeline: one
/// organization key in <c>Authorization: Bearer</c> (no <c>X-Api-Key</c>) of an organization this process holds,
/// checked from memory, naming the route's organization; and the permit of the configured global limiter. Anything
/// else is for the general pipeline, which answers it.
/// </summary>
public static class HeldKeyRequests
{
    public static bool TryGetCaller(HttpContext http, ApiKeyValidator validator, out Guid organizationId, [NotNullWhen(true)] out Caller? caller)
    {
        organizationId = Guid.Empty;
        caller = null;
        var request = http.Request;
        return !request.Headers.ContainsKey("X-Api-Key") && request.Headers.Authorization is { Count: 1 } authorization
            && authorization[0] is { Length: > 7 } header && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            && validator.TryCheckHeld(header[7..].Trim(), out caller)
            && request.RouteValues[OrganizationAccess.RouteParameter] is string org && Guid.TryParse(org, out organizationId)
            && caller.Key?.OrganizationId == organizationId;
    }

    /// <summary>Takes a permit for the caller already set on <paramref name="http"/>; when refused, the general pipeline's limiter refuses it again and answers the 429 with its Retry-After.</summary>
    public static bool TryAcquire(HttpContext http, PartitionedRateLimiter<HttpContext>? limiter)
    {
        if (limiter is null)
        {
            return true;
        }
        using var lease = limiter.AttemptAcquire(http);
        return lease.IsAcquired;
    }
}
