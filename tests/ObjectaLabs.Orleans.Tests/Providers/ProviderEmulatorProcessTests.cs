using System.Diagnostics;
using System.Globalization;
using ObjectaLabs.Orleans.Tests.Infrastructure;

namespace ObjectaLabs.Orleans.Tests.Providers;

/// <summary>
/// The standalone emulator (<c>dotnet run --project tests/ProviderEmulators</c>) stops on SIGTERM and SIGINT,
/// also when started in the background by a non-interactive shell, which hands it SIGINT and SIGQUIT ignored.
/// </summary>
public sealed class ProviderEmulatorProcessTests
{
    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task Standalone_emulator_started_in_the_background_stops_on_the_signal(string signal)
    {
        // 'trap "" INT QUIT' then exec: the state '&' leaves a command in when the shell has no job control.
        var info = new ProcessStartInfo("bash",
            ["-c", $"trap '' INT QUIT; exec dotnet \"{EmulatorDll()}\" --openai-port 0 --together-port 0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        using var process = Process.Start(info)!;
        var ready = new TaskCompletionSource();
        var output = new List<string>();
        process.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.Add(e.Data ?? "");
            }
            if (e.Data?.StartsWith("Together emulator", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));

            using (var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var exited = await process.WaitForExitAsync(timeout.Token).ContinueWith(t => t.IsCompletedSuccessfully);

            exited.Should().BeTrue($"SIG{signal} should stop the emulator; it printed:\n{string.Join('\n', output)}");
            process.ExitCode.Should().Be(0, "it stops gracefully: both emulators are disposed");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    private static string EmulatorDll()
    {
        // Built alongside the tests (the test project references the emulators), in the same configuration.
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var path = Path.Combine(PostgresServer.RepositoryRoot, "tests", "ProviderEmulators", "bin", configuration, "net10.0",
            "ObjectaLabs.Orleans.ProviderEmulators.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException("Build the solution first: the emulator binary is missing.", path);
    }
}
