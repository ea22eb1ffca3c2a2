using System.Collections.Concurrent;
using ObjectaLabs.Orleans.Models;

namespace ObjectaLabs.Orleans.Usage;

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
