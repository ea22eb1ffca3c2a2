using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using ObjectaLabs.Orleans.Silo.Database;
using ObjectaLabs.Orleans.Testing;

namespace ObjectaLabs.Orleans.Bench.Postgres;

/// <summary>A private PostgreSQL for one benchmark run (the tests' <see cref="LocalPostgres"/>), migrated, and removed afterwards.</summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private readonly LocalPostgres _server;

    private PrivatePostgres(LocalPostgres server)
    {
        _server = server;
        DataSource = NpgsqlDataSource.Create(server.ConnectionString);
    }

    public string ConnectionString => _server.ConnectionString;
    public NpgsqlDataSource DataSource { get; }

    public static async Task<PrivatePostgres> StartAsync()
    {
        var pg = new PrivatePostgres(LocalPostgres.Start("bench"));
        await new MigrationRunner(pg.DataSource, NullLogger<MigrationRunner>.Instance).ApplyAsync();
        return pg;
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        _server.Dispose();
    }
}
