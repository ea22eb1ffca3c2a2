using ObjectaLabs.Orleans.Api.Hosting;
using ObjectaLabs.Orleans.FewShot;

namespace ObjectaLabs.Orleans.Api.FewShot;

/// <summary>
/// Selection for the runtime's <c>POST …/resolve</c>: lexical and fixed templates go to the organization's index grain
/// in batches (<see cref="GrainCallBatcher{TRequest,TOutcome}"/>: two calls in flight per organization, so both of a
/// silo's cores select while the next batch gathers); embedding templates, which first embed the message through an
/// external endpoint, go one at a time.
/// </summary>
public sealed class FewShotSelections
{
    public const int MaxPerCall = 32;
    public const int MaxCallsInFlight = 2;

    private readonly IGrainFactory _grains;
    // Grain references are reused: making one looks the interface up by reflection each time.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, IExampleIndexGrain> _indexes = new();
    private readonly GrainCallBatcher<FewShotRequest, FewShotOutcome> _batcher;

    public FewShotSelections(IGrainFactory grains)
    {
        _grains = grains;
        _batcher = new((organizationId, requests) => Index(organizationId).SelectManyAsync(requests), MaxPerCall, MaxCallsInFlight);
    }

    private IExampleIndexGrain Index(Guid organizationId) =>
        _indexes.GetOrAdd(organizationId, static (id, grains) => grains.GetGrain<IExampleIndexGrain>(id), _grains);

    public async Task<FewShotSelection> SelectAsync(Guid organizationId, FewShotRequest request)
    {
        if (request.Template.Mode == FewShotMode.Embedding)
        {
            return await Index(organizationId).SelectAsync(request);
        }
        var outcome = await _batcher.SendAsync(organizationId, request);
        return outcome.Selection ?? throw outcome.Problem!;
    }
}
