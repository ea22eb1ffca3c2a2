using Microsoft.Extensions.Options;
using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Deployment;

namespace ObjectaLabs.Orleans.Usage;

/// <summary>One organization's use of one catalog base model (see <see cref="IBaseModelUsageGrain"/>), priced at the catalog's base prices.</summary>
public sealed class BaseModelUsageGrain(
    UsageRollups rollups,
    BaseModelCatalog catalog,
    IOptions<UsageOptions> options,
    TimeProvider clock,
    ILogger<BaseModelUsageGrain> logger) : Grain, IBaseModelUsageGrain
{
    private UsageWriter? _writer;

    public async Task RecordUsageAsync(Guid organizationId, IReadOnlyList<UsageDelta> deltas)
    {
        var key = this.GetPrimaryKey(out var extension);
        var baseModel = extension ?? "";
        if (key != organizationId || deltas.Any(d => d.Key.Model != ModelChoice.Base(baseModel)))
        {
            throw new InvalidOperationException($"Usage of another organization or model was sent to the usage of {baseModel} for organization {key}.");
        }
        var prices = catalog.Find(baseModel)?.Prices;
        _writer ??= new UsageWriter(this, GrainFactory, organizationId, ModelChoice.Base(baseModel), new UsageLedger(organizationId, rollups, prices?.BaseInput, prices?.BaseOutput, clock),
            options.Value, clock, logger);
        await _writer.AddAsync(deltas);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) =>
        _writer?.FlushAsync() ?? Task.CompletedTask;
}
