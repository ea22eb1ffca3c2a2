using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using ObjectaLabs.Orleans.Catalog;

namespace ObjectaLabs.Orleans.Usage;

/// <summary>
/// An organization's usage ingest (see <see cref="IUsageBatchesGrain"/>): checks the models a batch names, takes its id
/// once, and adds its entries to this silo's <see cref="UsageBuffer"/>; nothing here waits on a model grain or the
/// database. The batch ids are held in memory for <see cref="UsageOptions.BatchIdMemory"/> (at most
/// <see cref="UsageOptions.MaxRememberedBatches"/>, oldest forgotten first), written to <c>usage_batch_sets</c> (one row
/// per write) on a timer and on deactivation, and read back on activation.
/// </summary>
public sealed class UsageBatchesGrain(
    NpgsqlDataSource db, UsageBuffer buffer, OrganizationModels models, BaseModelCatalog catalog, IOptions<UsageOptions> options, TimeProvider clock,
    ILogger<UsageBatchesGrain> logger) : Grain, IUsageBatchesGrain
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

    public async Task<IReadOnlyList<UsageOutcome>> RecordAsync(IReadOnlyList<UsageBatch> batches)
    {
        var outcomes = new UsageOutcome[batches.Count];
        var valid = new List<int>(batches.Count);
        for (var i = 0; i < batches.Count; i++)
        {
            if (await RefusalAsync(batches[i].Entries) is { } refused)
            {
                outcomes[i] = refused;
            }
            else
            {
                valid.Add(i);
            }
        }
        if (valid.Count == 0)
        {
            return outcomes;
        }
        // Refused before an id is taken when the silo is stopping; once entered, its last forward waits for this one.
        using var ingest = buffer.Enter();
        var now = clock.GetUtcNow();
        foreach (var i in valid)
        {
            var batch = batches[i];
            var accepted = !_ids.Contains(batch.BatchId);
            if (accepted)
            {
                Take(batch.BatchId, now);
                buffer.Add(OrganizationId, batch.Entries);
            }
            outcomes[i] = new UsageOutcome(new UsageReceipt(batch.BatchId, batch.Events, Duplicate: !accepted), null, null);
        }
        return outcomes;
    }

    public async Task<bool> RecordMergedAsync(IReadOnlyList<Guid> batchIds, IReadOnlyList<UsageEntry> entries)
    {
        if (await RefusalAsync(entries) is not null)
        {
            return false;
        }
        var distinct = new HashSet<Guid>(batchIds.Count);
        foreach (var id in batchIds)
        {
            if (_ids.Contains(id) || !distinct.Add(id))
            {
                return false;
            }
        }
        using var ingest = buffer.Enter();
        var now = clock.GetUtcNow();
        foreach (var id in batchIds)
        {
            Take(id, now);
        }
        buffer.Add(OrganizationId, entries);
        return true;
    }

    /// <summary>Why entries are refused: a fine-tuned model that is not the organization's, or a base model not in the catalog.</summary>
    private async ValueTask<UsageOutcome?> RefusalAsync(IReadOnlyList<UsageEntry> entries)
    {
        foreach (var entry in entries)
        {
            if (entry.Key.Model.ModelId is { } modelId)
            {
                if (!await models.OwnsAsync(OrganizationId, modelId))
                {
                    return new UsageOutcome(null, $"events[{entry.FirstEvent}].modelId", $"Model {modelId} is not one of this organization's fine-tuned models.");
                }
            }
            else if (catalog.Find(entry.Key.Model.BaseModel!) is null)
            {
                return new UsageOutcome(null, $"events[{entry.FirstEvent}].baseModel", $"'{entry.Key.Model.BaseModel}' is not a model of the catalog (GET /v1/base-models).");
            }
        }
        return null;
    }

    /// <summary>Remembers a new batch id and queues it for the next write.</summary>
    private void Take(Guid id, DateTimeOffset now)
    {
        Remember(id, now);
        _unwritten.Add((id, now));
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
