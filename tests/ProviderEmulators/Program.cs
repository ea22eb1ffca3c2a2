using System.Runtime.InteropServices;
using ObjectaLabs.Orleans.ProviderEmulators;

// Standalone: dotnet run --project tests/ProviderEmulators -- --openai-port 5585 --together-port 5586 [--tick-ms 1000]
// Ctrl-C, SIGINT, SIGQUIT and SIGTERM stop it, also when it was started in the background.

// A command started with '&' by a non-interactive shell inherits SIGINT and SIGQUIT as ignored, and the runtime
// honours that: no handler would ever see them. Set them back to their default before anything registers for them.
if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
{
    Signals.Restore(Signals.SIGINT);
    Signals.Restore(Signals.SIGQUIT);
}

// Each emulator's web host has its own console lifetime, which takes SIGTERM and SIGINT to stop only that host and
// cancels the process's default exit, so nothing else would ever end Main. These registrations see the same
// signals (every registration's handler runs) and end it; the hosts are then disposed in order below.
var stopped = new TaskCompletionSource();
void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stopped.TrySetResult();
}
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, Stop);

var options = EmulatorOptions.FromArgs(args);
await using var host = await ProviderEmulatorHost.StartAsync(options);
Console.WriteLine($"OpenAI emulator    {host.OpenAiBaseUrl}");
Console.WriteLine($"Together emulator  {host.TogetherBaseUrl}");
Console.WriteLine("Faults: POST /_control/faults on either port; Ctrl-C (or SIGTERM) stops.");
await stopped.Task;
Console.WriteLine("Stopping.");

internal static class Signals
{
    public const int SIGINT = 2;
    public const int SIGQUIT = 3;

    /// <summary>Sets the signal back to its default disposition (SIG_DFL), undoing an inherited SIG_IGN.</summary>
    public static void Restore(int signal) => SetDisposition(signal, IntPtr.Zero);

    [DllImport("libc", EntryPoint = "signal")]
    private static extern IntPtr SetDisposition(int signal, IntPtr handler);
}
