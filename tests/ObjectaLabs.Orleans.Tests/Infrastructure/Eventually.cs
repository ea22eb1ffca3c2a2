namespace ObjectaLabs.Orleans.Tests.Infrastructure;

/// <summary>Polls a condition until it holds or the time runs out, for things that happen in the background.</summary>
public static class Eventually
{
    /// <param name="tolerateErrors">Treat a throwing check as "not yet" (calls during a failover may time out).</param>
    public static async Task Async(Func<Task<bool>> condition, TimeSpan timeout, string? because = null, bool tolerateErrors = false)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception e) when (tolerateErrors)
            {
                last = e;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Condition not met within {timeout.TotalSeconds:0} s{(because is null ? "" : ": " + because)}.", last);
            }
            await Task.Delay(200);
        }
    }
}
