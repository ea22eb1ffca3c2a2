using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using ObjectaLabs.Orleans.Providers.Accounts;
using Polly;

namespace ObjectaLabs.Orleans.Providers.Together;

/// <summary>
/// The Together client's resilience pipeline: a total timeout, then retries of transient faults (408,
/// 429, 5xx, timeouts, lost connections) with exponential backoff and jitter that honour
/// <c>Retry-After</c>, then a per-attempt timeout. Only safe methods (GET) are retried inside a call:
/// a create or cancel whose answer was lost goes back to the job grain, which looks for the job by its
/// reference before submitting again. A <c>Retry-After</c> beyond
/// <see cref="TogetherProviderOptions.MaxInlineRetryAfter"/> is not waited out here either.
/// </summary>
public static class TogetherRegistration
{
    public const string PipelineName = "together";

    public static IServiceCollection AddTogetherClient(this IServiceCollection services)
    {
        services.AddHttpClient<TogetherClient>(http =>
            {
                // The pipeline's timeouts rule; HttpClient's own would cut a retry short.
                http.Timeout = Timeout.InfiniteTimeSpan;
                http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("objectalabs-fine-tuning", "1.0"));
            })
            .AddResilienceHandler(PipelineName, (pipeline, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<TogetherProviderOptions>>().Value;
                var total = options.AttemptTimeout * (options.MaxRetries + 1)
                    + options.MaxInlineRetryAfter * options.MaxRetries
                    + options.RetryBaseDelay * Math.Pow(2, options.MaxRetries);
                pipeline.AddTimeout(total);
                if (options.MaxRetries > 0)
                {
                    var retry = new HttpRetryStrategyOptions
                    {
                        MaxRetryAttempts = options.MaxRetries,
                        Delay = options.RetryBaseDelay,
                        BackoffType = DelayBackoffType.Exponential,
                        UseJitter = true,
                        ShouldRetryAfterHeader = true,
                        ShouldHandle = args => ValueTask.FromResult(
                            HttpClientResiliencePredicates.IsTransient(args.Outcome)
                            && !(args.Outcome.Result is { } response && TogetherClient.RetryAfter(response) > options.MaxInlineRetryAfter)),
                    };
                    retry.DisableForUnsafeHttpMethods();
                    pipeline.AddRetry(retry);
                }
                pipeline.AddTimeout(options.AttemptTimeout);
            });
        return services;
    }
}
