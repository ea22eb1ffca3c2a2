using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using ObjectaLabs.Orleans.Silo.Database;

namespace ObjectaLabs.Orleans.Bench.Postgres;

/// <summary>A private PostgreSQL for one benchmark run, started through ./run postgres like the tests do, migrated, and removed afterwards.</summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private readonly string _folder;
    private readonly string _data;

    private PrivatePostgres(string folder, string connectionString)
    {
        _folder = folder;
        _data = Path.Combine(folder, "pg");
        ConnectionString = connectionString;
        DataSource = NpgsqlDataSource.Create(connectionString);
    }

    public string ConnectionString { get; }
    public NpgsqlDataSource DataSource { get; }

    public static async Task<PrivatePostgres> StartAsync()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"objectalabs-bench-pg-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        if (!OperatingSystem.IsWindows())
        {
            // The server runs as the postgres system user when we run as root: it must reach the folder.
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
        // Same durability settings as the tests: the benchmark measures our code, not fsync.
        var url = Run($"postgres start --data {Path.Combine(folder, "pg")} --port {FreePort()}",
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        var pg = new PrivatePostgres(folder, url);
        await new MigrationRunner(pg.DataSource, NullLogger<MigrationRunner>.Instance).ApplyAsync();
        return pg;
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        Run($"postgres stop --data {_data}");
        Directory.Delete(_folder, recursive: true);
    }

    private static string Run(string arguments, string? extraOptions = null)
    {
        var info = new ProcessStartInfo("bash", $"{Path.Combine(Root(), "run")} {arguments}") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (extraOptions is not null)
        {
            info.Environment["PG_EXTRA_OPTS"] = extraOptions;
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output.Trim() : throw new InvalidOperationException($"./run {arguments} failed: {error}");
    }

    private static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ObjectaLabs.Orleans.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Cannot find the repository root.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
