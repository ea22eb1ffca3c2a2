using ObjectaLabs.Orleans.Api.Hosting;
using ObjectaLabs.Orleans.FewShot;

namespace ObjectaLabs.Orleans.Api.FewShot;

/// <summary>
/// Selection for the runtime's <c>POST …/resolve</c>: lexical and fixed templates go to the organization's index grain
/// in batches (<see cref="GrainCallBatcher{TRequest,TOutcome}"/>: two calls in flight per organization, so both of a
/// silo's cores select while the next batch gathers); embedding templates, which first embed the message through an
/// external endpoint, go one at a time.
/// </summary>
public sealed class FewShotSelections(IGrainFactory grains)
{
    public const int MaxPerCall = 32;
    public const int MaxCallsInFlight = 2;

    private readonly GrainCallBatcher<FewShotRequest, FewShotOutcome> _batcher = new(
        (organizationId, requests) => grains.GetGrain<IExampleIndexGrain>(organizationId).SelectManyAsync(requests), MaxPerCall, MaxCallsInFlight);

    public async Task<FewShotSelection> SelectAsync(Guid organizationId, FewShotRequest request)
    {
        if (request.Template.Mode == FewShotMode.Embedding)
        {
            return await grains.GetGrain<IExampleIndexGrain>(organizationId).SelectAsync(request);
        }
        var outcome = await _batcher.SendAsync(organizationId, request);
        return outcome.Selection ?? throw outcome.Problem!;
    }
}
