using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ObjectaLabs.Orleans.Usage;

/// <summary>
/// The usage batch ids an organization was counted under (see <see cref="IUsageBatchesGrain"/>): held in memory for
/// <see cref="UsageOptions.BatchIdMemory"/> (at most <see cref="UsageOptions.MaxRememberedBatches"/>, oldest forgotten
/// first), written to <c>usage_batch_sets</c> (one row per write) on a timer and on deactivation, and read back on activation.
/// </summary>
public sealed class UsageBatchesGrain(NpgsqlDataSource db, IOptions<UsageOptions> options, TimeProvider clock, ILogger<UsageBatchesGrain> logger)
    : Grain, IUsageBatchesGrain
{
    private readonly HashSet<Guid> _ids = [];
    private readonly Queue<(Guid Id, DateTimeOffset At)> _order = new();
    private readonly List<(Guid Id, DateTimeOffset At)> _unwritten = [];

    private Guid OrganizationId => this.GetPrimaryKey();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var since = clock.GetUtcNow() - options.Value.BatchIdMemory;
        var rows = await connection.QueryAsync<(Guid, DateTime)>(new CommandDefinition("""
            SELECT u.id, u.at FROM usage_batch_sets s, unnest(s.batch_ids, s.accepted_at) AS u(id, at)
            WHERE s.organization_id = @org AND s.written_at >= @since AND u.at >= @since
            ORDER BY u.at
            """, new { org = OrganizationId, since }, cancellationToken: cancellationToken));
        foreach (var (id, at) in rows)
        {
            Remember(id, new DateTimeOffset(at, TimeSpan.Zero));
        }
        this.RegisterGrainTimer(WriteAsync, new GrainTimerCreationOptions(options.Value.FlushInterval, options.Value.FlushInterval));
    }

    public Task<bool[]> TryAcceptAsync(IReadOnlyList<Guid> batchIds)
    {
        var now = clock.GetUtcNow();
        var accepted = new bool[batchIds.Count];
        for (var i = 0; i < batchIds.Count; i++)
        {
            if (!_ids.Contains(batchIds[i]))
            {
                Remember(batchIds[i], now);
                _unwritten.Add((batchIds[i], now));
                accepted[i] = true;
            }
        }
        return Task.FromResult(accepted);
    }

    public Task<bool> TryAcceptAllAsync(IReadOnlyList<Guid> batchIds)
    {
        var distinct = new HashSet<Guid>(batchIds.Count);
        foreach (var id in batchIds)
        {
            if (_ids.Contains(id) || !distinct.Add(id))
            {
                return Task.FromResult(false);
            }
        }
        var now = clock.GetUtcNow();
        foreach (var id in batchIds)
        {
            Remember(id, now);
            _unwritten.Add((id, now));
        }
        return Task.FromResult(true);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => WriteAsync(cancellationToken);

    private void Remember(Guid id, DateTimeOffset at)
    {
        if (!_ids.Add(id))
        {
            return;
        }
        _order.Enqueue((id, at));
        var forgetBefore = clock.GetUtcNow() - options.Value.BatchIdMemory;
        while (_order.Count > options.Value.MaxRememberedBatches || (_order.TryPeek(out var oldest) && oldest.At < forgetBefore))
        {
            _ids.Remove(_order.Dequeue().Id);
        }
    }

    /// <summary>Writes the ids taken since the last write (and forgets the database's expired ones); on failure they wait for the next.</summary>
    private async Task WriteAsync(CancellationToken cancellationToken)
    {
        if (_unwritten.Count == 0)
        {
            return;
        }
        var batch = _unwritten.ToList();
        try
        {
            await using var connection = await db.OpenConnectionAsync(cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO usage_batch_sets (organization_id, written_at, batch_ids, accepted_at) VALUES (@org, @now, @ids, @ats);
                DELETE FROM usage_batch_sets WHERE organization_id = @org AND written_at < @forgetBefore;
                """, new
            {
                org = OrganizationId,
                now = clock.GetUtcNow().UtcDateTime,
                ids = batch.Select(b => b.Id).ToArray(),
                ats = batch.Select(b => b.At.UtcDateTime).ToArray(),
                forgetBefore = (clock.GetUtcNow() - options.Value.BatchIdMemory).UtcDateTime,
            }, cancellationToken: cancellationToken));
            _unwritten.RemoveRange(0, batch.Count);
        }
        catch (NpgsqlException e)
        {
            logger.LogWarning(e, "Usage batch ids of organization {OrganizationId} not written; the next write tries again", OrganizationId);
        }
    }
}
