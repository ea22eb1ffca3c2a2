using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace ObjectaLabs.Orleans.Api.Hosting;

/// <summary>
/// A readiness check that many callers share: one probe runs at a time and its answer is reused for a second, so
/// a flood of <c>/health/ready</c> requests costs at most one database connection and one grain call a second.
/// </summary>
public sealed class SharedHealthCheck(IHealthCheck inner, TimeProvider clock) : IHealthCheck
{
    private static readonly TimeSpan Reuse = TimeSpan.FromSeconds(1);
    private readonly object _gate = new();
    private Task<HealthCheckResult>? _probe;
    private DateTimeOffset _probedAt;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_probe is null || (_probe.IsCompleted && clock.GetUtcNow() - _probedAt > Reuse))
            {
                _probedAt = clock.GetUtcNow();
                // The probe is shared, so no caller's cancellation may end it.
                _probe = inner.CheckHealthAsync(context, CancellationToken.None);
            }
            return _probe.WaitAsync(cancellationToken);
        }
    }
}

/// <summary>Ready when <c>SELECT 1</c> answers on a pool of one connection, within three seconds.</summary>
public sealed class PostgresHealthCheck(string connectionString) : IHealthCheck, IDisposable
{
    private readonly NpgsqlDataSource _db = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(connectionString)
    {
        MaxPoolSize = 1,
        Timeout = 3,
        CommandTimeout = 3,
    }.ConnectionString).Build();

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var command = _db.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy("PostgreSQL does not answer.", e);
        }
    }

    public void Dispose() => _db.Dispose();
}
