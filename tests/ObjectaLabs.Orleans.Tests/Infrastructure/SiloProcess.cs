using System.Collections.Concurrent;
using System.Diagnostics;
using ObjectaLabs.Orleans.Hosting;

namespace ObjectaLabs.Orleans.Tests.Infrastructure;

/// <summary>
/// A production silo as a separate operating-system process (the built <c>Silo</c> binary), so that a
/// test can kill it with SIGKILL: no graceful shutdown, no membership goodbye, a real crash.
/// </summary>
public sealed class SiloProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private SiloProcess(Process process, int siloPort, int gatewayPort)
    {
        _process = process;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
    }

    public int SiloPort { get; }
    public int GatewayPort { get; }
    public bool HasExited => _process.HasExited;

    /// <summary>The last lines the silo printed, for failure messages.</summary>
    public string RecentOutput => string.Join('\n', _output.TakeLast(40));

    public static SiloProcess Start(string connectionString, IDictionary<string, string>? settings = null)
    {
        var siloPort = PostgresServer.FreePort();
        var gatewayPort = PostgresServer.FreePort();
        var info = new ProcessStartInfo("dotnet", $"\"{SiloDll()}\"")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(SiloDll())!,
        };
        info.Environment[$"ConnectionStrings__{ClusterSettings.ConnectionStringName}"] = connectionString;
        info.Environment["Orleans__SiloPort"] = siloPort.ToString();
        info.Environment["Orleans__GatewayPort"] = gatewayPort.ToString();
        info.Environment["Orleans__ApplyMigrations"] = "false";
        info.Environment["Orleans__Dashboard"] = "false";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["Logging__Console__FormatterName"] = "simple";
        foreach (var (key, value) in KeyRingCertificate.Shared.Settings)
        {
            info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        var process = Process.Start(info)!;
        var silo = new SiloProcess(process, siloPort, gatewayPort);
        KeepOutput(process, silo._output);
        return silo;
    }

    /// <summary>Keeps the last 200 lines a child process prints, for failure messages.</summary>
    internal static void KeepOutput(Process process, ConcurrentQueue<string> output)
    {
        void Keep(string? line)
        {
            if (line is null)
            {
                return;
            }
            output.Enqueue(line);
            while (output.Count > 200 && output.TryDequeue(out _))
            {
            }
        }
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>SIGKILL: the process dies at once, as in a machine or runtime crash.</summary>
    public void Crash()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    /// <summary>SIGTERM, as an orchestrator or Ctrl-C sends it: the silo stops gracefully (within its bound).</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>Waits for the process to end; false if it still runs after <paramref name="timeout"/>.</summary>
    public bool WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout);

    public int ExitCode => _process.ExitCode;

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Crash();
        }
        _process.Dispose();
    }

    private static string SiloDll() => BuiltDll("Silo", "ObjectaLabs.Orleans.Silo.dll");

    /// <summary>A project's binary, built alongside the tests (the test project references it), in the same configuration.</summary>
    internal static string BuiltDll(string project, string dll)
    {
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var path = Path.Combine(PostgresServer.RepositoryRoot, project, "bin", configuration, "net10.0", dll);
        return File.Exists(path) ? path : throw new FileNotFoundException($"Build the solution first: {dll} is missing.", path);
    }
}
