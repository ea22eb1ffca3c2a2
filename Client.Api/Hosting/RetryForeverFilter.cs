namespace ObjectaLabs.Orleans.Api.Hosting;

/// <summary>
/// Keeps trying to reach the cluster instead of giving up after Orleans' default attempts: the API may
/// start before any silo (as <c>./run</c> does), and readiness reports the cluster's absence meanwhile.
/// </summary>
public sealed class RetryForeverFilter(ILogger<RetryForeverFilter> logger) : IClientConnectionRetryFilter
{
    private int _attempt;

    public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
    {
        var attempt = Interlocked.Increment(ref _attempt);
        if (attempt == 1 || attempt % 10 == 0)
        {
            logger.LogWarning("Cluster not reachable yet (attempt {Attempt}): {Reason}", attempt, exception.Message);
        }
        await Task.Delay(TimeSpan.FromSeconds(Math.Min(5, attempt)), cancellationToken);
        return !cancellationToken.IsCancellationRequested;
    }
}
