using System.Collections.Concurrent;
using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Models;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Usage;

/// <summary>
/// The stateless ingest path (see <see cref="IUsageIngestGrain"/>): checks the models a batch names, takes its id once,
/// and adds it to this silo's <see cref="UsageBuffer"/>. Nothing here waits on a model grain or the database.
/// </summary>
[global::Orleans.Concurrency.StatelessWorker]
public sealed class UsageIngestGrain(UsageBuffer buffer, OrganizationModels models, BaseModelCatalog catalog) : Grain, IUsageIngestGrain
{
    public async Task<UsageReceipt> RecordAsync(Guid organizationId, UsageBatch batch)
    {
        foreach (var entry in batch.Entries)
        {
            if (entry.Key.Model.ModelId is { } modelId)
            {
                if (!await models.OwnsAsync(organizationId, modelId))
                {
                    throw ProblemException.Invalid($"events[{entry.FirstEvent}].modelId", $"Model {modelId} is not one of this organization's fine-tuned models.");
                }
            }
            else if (catalog.Find(entry.Key.Model.BaseModel!) is null)
            {
                throw ProblemException.Invalid($"events[{entry.FirstEvent}].baseModel", $"'{entry.Key.Model.BaseModel}' is not a model of the catalog (GET /v1/base-models).");
            }
        }
        if (!await GrainFactory.GetGrain<IUsageBatchesGrain>(organizationId).TryAcceptAsync(batch.BatchId))
        {
            return new UsageReceipt(batch.BatchId, batch.Events, Duplicate: true);
        }
        buffer.Add(organizationId, batch.Entries);
        return new UsageReceipt(batch.BatchId, batch.Events, Duplicate: false);
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
