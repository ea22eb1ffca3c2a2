namespace ObjectaLabs.Orleans.Usage;

/// <summary>
/// A model grain's usage ledger with its write timer: the rollups are written every <see cref="UsageOptions.FlushInterval"/>
/// while anything is unwritten, and once more when the grain is deactivated.
/// </summary>
public sealed class UsageWriter(Grain grain, UsageLedger ledger, UsageOptions options, ILogger logger)
{
    private IGrainTimer? _timer;

    public async Task AddAsync(IReadOnlyList<UsageDelta> deltas)
    {
        await ledger.AddAsync(deltas);
        _timer ??= grain.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions(options.FlushInterval, options.FlushInterval));
    }

    /// <summary>The last write, when the grain is deactivated (a graceful stop loses nothing).</summary>
    public Task FlushAsync() => WriteAsync(last: true);

    private Task TickAsync(CancellationToken cancellationToken) => WriteAsync(last: false);

    private async Task WriteAsync(bool last)
    {
        try
        {
            await ledger.FlushAsync();
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
        {
            if (last)
            {
                logger.LogError(e, "Usage of {Grain} not written on deactivation; it is lost", grain.GrainContext.GrainId);
            }
            else
            {
                logger.LogWarning(e, "Usage of {Grain} not written; the next write tries again", grain.GrainContext.GrainId);
            }
        }
    }
}
