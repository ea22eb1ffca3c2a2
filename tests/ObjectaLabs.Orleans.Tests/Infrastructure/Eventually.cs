namespace ObjectaLabs.Orleans.Tests.Infrastructure;

/// <summary>Polls a condition until it holds or the time runs out, for things that happen in the background.</summary>
public static class Eventually
{
    public static async Task Async(Func<Task<bool>> condition, TimeSpan timeout, string? because = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await condition())
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Condition not met within {timeout.TotalSeconds:0} s{(because is null ? "" : ": " + because)}.");
            }
            await Task.Delay(200);
        }
    }
}
