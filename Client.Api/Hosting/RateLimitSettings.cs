using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using ObjectaLabs.Orleans.Api.Security;
using ObjectaLabs.Orleans.Organizations;

namespace ObjectaLabs.Orleans.Api.Hosting;

/// <summary>Section <c>RateLimits</c>: a token bucket per API key, sized by what the key is for.</summary>
public sealed class RateLimitSettings
{
    public const string Section = "RateLimits";

    public BucketSettings Admin { get; set; } = new() { PermitsPerSecond = 20, Burst = 100 };
    public BucketSettings Runtime { get; set; } = new() { PermitsPerSecond = 5000, Burst = 10000 };
    /// <summary>
    /// Resolution (<c>…/resolve</c>) per key: the runtime asks on every request and it is answered from memory, so its
    /// bucket is sized for the process's throughput, apart from the key's other calls.
    /// </summary>
    public BucketSettings Resolution { get; set; } = new() { PermitsPerSecond = 200_000, Burst = 400_000 };
    /// <summary>
    /// Resolution with few-shot selection (<c>POST …/resolve</c>) per key: each one ranks the organization's examples in the
    /// cluster (tens of microseconds of a silo's CPU), so one key cannot spend a cluster's capacity.
    /// </summary>
    public BucketSettings Selection { get; set; } = new() { PermitsPerSecond = 20_000, Burst = 40_000 };
    public BucketSettings Platform { get; set; } = new() { PermitsPerSecond = 50, Burst = 200 };
    /// <summary>Requests without a valid key, per client address.</summary>
    public BucketSettings Anonymous { get; set; } = new() { PermitsPerSecond = 10, Burst = 50 };
    /// <summary>
    /// Checks of keys not yet known to be valid, per client address (IPv6: per /64), taken before any grain
    /// call; a key known to be valid never spends from it.
    /// </summary>
    public BucketSettings UnverifiedKeys { get; set; } = new() { PermitsPerSecond = 10, Burst = 50 };

    public sealed class BucketSettings
    {
        public int PermitsPerSecond { get; set; }
        public int Burst { get; set; }
    }
}

public static class RateLimiting
{
    /// <summary>Set on a request whose permit a fast path already took (see <c>UsageFastPath</c>).</summary>
    public const string ChargedItem = "objectalabs.rate-limit-charged";

    public static IServiceCollection AddApiKeyRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        var settings = configuration.GetSection(RateLimitSettings.Section).Get<RateLimitSettings>() ?? new RateLimitSettings();
        services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            {
                if (http.Request.Path.StartsWithSegments("/health"))
                {
                    return RateLimitPartition.GetNoLimiter("health");
                }
                if (http.Items.ContainsKey(ChargedItem))
                {
                    // A fast path took this request's permit before passing it on: it is not charged twice.
                    return RateLimitPartition.GetNoLimiter("charged");
                }
                // The caller's partitions are built once per key (Caller), so a request allocates no partition string.
                var caller = http.User.Caller();
                var (partition, bucket) = caller is null
                    ? ($"ip:{ApiKeyValidator.Partition(http.Connection.RemoteIpAddress)}", settings.Anonymous)
                    : http.Request.Path.Value is { } path && path.EndsWith("/resolve", StringComparison.Ordinal)
                        ? HttpMethods.IsPost(http.Request.Method) ? (caller.SelectPartition, settings.Selection) : (caller.ResolvePartition, settings.Resolution)
                    : caller.IsPlatformAdmin ? (caller.KeyPartition, settings.Platform)
                    : caller.Key!.Scope == ApiKeyScope.Runtime ? (caller.KeyPartition, settings.Runtime)
                    : (caller.KeyPartition, settings.Admin);
                return RateLimitPartition.GetTokenBucketLimiter(partition, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = Math.Max(1, bucket.Burst),
                    TokensPerPeriod = Math.Max(1, bucket.PermitsPerSecond),
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            o.OnRejected = async (context, cancellationToken) =>
            {
                var http = context.HttpContext;
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails =
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too many requests",
                        Detail = $"This key's request rate limit was reached; retry after {seconds} s.",
                        Extensions = { ["retryAfterSeconds"] = seconds },
                    },
                });
            };
        });
        return services;
    }
}
