namespace ObjectaLabs.Orleans.Silo.Database;

/// <summary>Brings the database schema up to date before the silo joins the cluster.</summary>
internal sealed class MigrationHostedService(MigrationRunner runner, ILogger<MigrationHostedService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var result = await runner.ApplyAsync(cancellationToken);
        logger.LogInformation("Database schema ready: {Applied} migrations applied, {Existing} already present",
            result.Applied.Count, result.AlreadyApplied.Count);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
