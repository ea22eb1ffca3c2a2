using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ObjectaLabs.Orleans.Testing;

/// <summary>
/// A private PostgreSQL 15 cluster in a temp folder, managed through <c>./run postgres</c>: the same code path that
/// <c>./run</c> and CI use. Shared as source by the tests and the benchmarks (each project links this file).
/// </summary>
internal sealed class LocalPostgres : IDisposable
{
    // Tests and benchmarks measure our code, not fsync.
    private const string FastOptions = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off";
    private readonly string _folder;
    private int _disposed;

    private LocalPostgres(string folder, int port, string connectionString)
    {
        _folder = folder;
        Port = port;
        ConnectionString = connectionString;
    }

    public string DataDirectory => Path.Combine(_folder, "pg");
    public int Port { get; }

    /// <summary>The <c>objectalabs</c> database that <c>./run postgres start</c> creates.</summary>
    public string ConnectionString { get; }

    /// <summary>The server's <c>postgres</c> database, as a user that may create databases.</summary>
    public string AdminConnectionString => ConnectionString.Replace("Database=objectalabs", "Database=postgres", StringComparison.Ordinal);

    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>Creates and starts a cluster in a fresh temp folder on a free port.</summary>
    public static LocalPostgres Start(string purpose)
    {
        var folder = Directory.CreateTempSubdirectory($"objectalabs-{purpose}-pg-").FullName;
        if (!OperatingSystem.IsWindows())
        {
            // When we are root the server runs as the postgres system user: it must reach the folder.
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
        var port = FreePort();
        var url = Run($"postgres start --data {Path.Combine(folder, "pg")} --port {port}", FastOptions);
        return new LocalPostgres(folder, port, url);
    }

    /// <summary>Stops the server (fast shutdown: open connections are cut), keeping its files.</summary>
    public void Stop() => Run($"postgres stop --data {DataDirectory}");

    /// <summary>Starts the stopped server again on the same port and files.</summary>
    public void Restart() => Run($"postgres start --data {DataDirectory} --port {Port}", FastOptions);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        try
        {
            Stop();
            Directory.Delete(_folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            // Best effort: a leftover temp folder is harmless.
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Run(string arguments, string? extraOptions = null)
    {
        var info = new ProcessStartInfo("bash", $"{Path.Combine(RepositoryRoot, "run")} {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (extraOptions is not null)
        {
            info.Environment["PG_EXTRA_OPTS"] = extraOptions;
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"./run {arguments} timed out: {error.Result}");
        }
        return process.ExitCode == 0
            ? output.Result.Trim()
            : throw new InvalidOperationException($"./run {arguments} failed ({process.ExitCode}): {error.Result}");
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
