using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ObjectaLabs.Orleans.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server the tests use: the one named by <c>OBJECTALABS_TEST_POSTGRES</c> (an admin
/// connection string whose user may create databases), or else a private PostgreSQL 15 cluster that
/// this process starts through <c>./run postgres</c>, the same code path that <c>./run</c> uses, and
/// stops when the test run ends.
/// </summary>
public static class PostgresServer
{
    public const string EnvironmentVariable = "OBJECTALABS_TEST_POSTGRES";
    private static readonly Lazy<string> Admin = new(StartOrFind, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>A connection string to the server's <c>postgres</c> database with rights to create databases.</summary>
    public static string AdminConnectionString => Admin.Value;

    public static string RepositoryRoot { get; } = FindRoot();

    private static string StartOrFind()
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } configured)
        {
            return configured;
        }
        var folder = Path.Combine(Path.GetTempPath(), $"objectalabs-test-pg-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        // The server runs as the postgres system user when the tests run as root: it must reach the folder.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
        var data = Path.Combine(folder, "pg");
        var port = FreePort();
        var url = RunScript($"postgres start --data {data} --port {port}", extra: "PG_EXTRA_OPTS=-c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                RunScript($"postgres stop --data {data}");
                Directory.Delete(folder, recursive: true);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException)
            {
                // Best effort: a leftover temp folder is harmless.
            }
        };
        return url.Replace("Database=objectalabs", "Database=postgres", StringComparison.Ordinal);
    }

    private static string RunScript(string arguments, string? extra = null)
    {
        var info = new ProcessStartInfo("bash", $"{Path.Combine(RepositoryRoot, "run")} {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (extra is not null)
        {
            var split = extra.IndexOf('=', StringComparison.Ordinal);
            info.Environment[extra[..split]] = extra[(split + 1)..];
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"./run {arguments} timed out: {error.Result}");
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"./run {arguments} failed ({process.ExitCode}): {error.Result}");
        }
        return output.Result.Trim();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ObjectaLabs.Orleans.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Cannot find the repository root (ObjectaLabs.Orleans.sln) above " + AppContext.BaseDirectory);
    }
}
