using System.Collections.Concurrent;
using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Models;

namespace ObjectaLabs.Orleans.Usage;

/// <summary>
/// The stateless ingest path (see <see cref="IUsageIngestGrain"/>): checks the models a batch names, takes its id once,
/// and adds it to this silo's <see cref="UsageBuffer"/>. Nothing here waits on a model grain or the database.
/// </summary>
[global::Orleans.Concurrency.StatelessWorker]
public sealed class UsageIngestGrain(UsageBuffer buffer, OrganizationModels models, BaseModelCatalog catalog) : Grain, IUsageIngestGrain
{
    public async Task<IReadOnlyList<UsageOutcome>> RecordAsync(Guid organizationId, IReadOnlyList<UsageBatch> batches)
    {
        var outcomes = new UsageOutcome[batches.Count];
        var valid = new List<int>(batches.Count);
        for (var i = 0; i < batches.Count; i++)
        {
            if (await RefusalAsync(organizationId, batches[i].Entries) is { } refused)
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
        var accepted = await GrainFactory.GetGrain<IUsageBatchesGrain>(organizationId).TryAcceptAsync([.. valid.Select(i => batches[i].BatchId)]);
        for (var k = 0; k < valid.Count; k++)
        {
            var batch = batches[valid[k]];
            if (accepted[k])
            {
                buffer.Add(organizationId, batch.Entries);
            }
            outcomes[valid[k]] = new UsageOutcome(new UsageReceipt(batch.BatchId, batch.Events, Duplicate: !accepted[k]), null, null);
        }
        return outcomes;
    }

    public async Task<bool> RecordMergedAsync(Guid organizationId, IReadOnlyList<Guid> batchIds, IReadOnlyList<UsageEntry> entries)
    {
        if (await RefusalAsync(organizationId, entries) is not null)
        {
            return false;
        }
        using var ingest = buffer.Enter();
        if (!await GrainFactory.GetGrain<IUsageBatchesGrain>(organizationId).TryAcceptAllAsync(batchIds))
        {
            return false;
        }
        buffer.Add(organizationId, entries);
        return true;
    }

    /// <summary>Why entries are refused: a fine-tuned model that is not the organization's, or a base model not in the catalog.</summary>
    private async ValueTask<UsageOutcome?> RefusalAsync(Guid organizationId, IReadOnlyList<UsageEntry> entries)
    {
        foreach (var entry in entries)
        {
            if (entry.Key.Model.ModelId is { } modelId)
            {
                if (!await models.OwnsAsync(organizationId, modelId))
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
}

/// <summary>Which fine-tuned models each organization owns, as this silo last read them from the registry (read again on a miss, at most every few seconds).</summary>
public sealed class OrganizationModels(IGrainFactory grains, TimeProvider clock)
{
    private static readonly TimeSpan MissRecheck = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<Guid, (HashSet<Guid> Ids, DateTimeOffset ReadAt)> _known = new();

    public async ValueTask<bool> OwnsAsync(Guid organizationId, Guid modelId)
    {
        if (_known.TryGetValue(organizationId, out var known) && (known.Ids.Contains(modelId) || clock.GetUtcNow() - known.ReadAt < MissRecheck))
        {
            return known.Ids.Contains(modelId);
        }
        var ids = (await grains.GetGrain<IModelRegistryGrain>(organizationId).ListModelIdsAsync()).ToHashSet();
        _known[organizationId] = (ids, clock.GetUtcNow());
        return ids.Contains(modelId);
    }
}
