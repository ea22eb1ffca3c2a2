namespace ObjectaLabs.Orleans.Silo.Hosting;

/// <summary>
/// Ends the silo process when a graceful stop outlives its bound. Orleans' stop waits on the database (membership
/// update, grain state writes); with the database gone it can wait for ever, and an orchestrator's SIGKILL is worse
/// than an exit that says why. Only the silo's own process arms it: an in-process test silo never exits its host.
/// </summary>
public static class ShutdownWatchdog
{
    public const int ExitCode = 70;
    private static int _armed;

    public static void Arm(TimeSpan bound, ILogger logger)
    {
        if (Interlocked.Exchange(ref _armed, 1) == 1)
        {
            return;
        }
        var thread = new Thread(() =>
        {
            Thread.Sleep(bound);
            logger.LogCritical("Graceful stop did not finish within {Seconds} s (is the database reachable?); exiting now", (int)bound.TotalSeconds);
            Environment.Exit(ExitCode);
        })
        {
            IsBackground = true,
            Name = "shutdown-watchdog",
        };
        thread.Start();
    }
}
