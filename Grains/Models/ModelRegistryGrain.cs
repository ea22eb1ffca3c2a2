using ObjectaLabs.Orleans.Hosting;

namespace ObjectaLabs.Orleans.Models;

/// <summary>An organization's model registry (see <see cref="IModelRegistryGrain"/>).</summary>
public sealed class ModelRegistryGrain(
    [PersistentState("model-registry", StorageNames.Postgres)] IPersistentState<ModelRegistryState> state,
    ILogger<ModelRegistryGrain> logger) : Grain, IModelRegistryGrain
{
    private Guid OrganizationId => this.GetPrimaryKey();

    public async Task<FineTunedModelInfo> RegisterAsync(ModelRegistration registration)
    {
        if (registration.OrganizationId != OrganizationId)
        {
            throw new ArgumentException("The registration belongs to another organization.", nameof(registration));
        }
        var modelId = ModelIds.ForJob(registration.JobId);
        if (!state.State.VersionByJob.TryGetValue(registration.JobId, out var version))
        {
            // The version is reserved and written before the model grain is told, so a crash in between
            // re-registers with the same version instead of skipping one.
            var line = registration.Name.ToUpperInvariant();
            var next = state.State.Copy();
            version = next.LastVersions.GetValueOrDefault(line) + 1;
            next.LastVersions[line] = version;
            next.VersionByJob[registration.JobId] = version;
            next.ModelIds.Add(modelId);
            await WriteAsync(next);
            logger.LogInformation("Version {Version} of {ModelLine} reserved for job {JobId}", version, registration.Name, registration.JobId);
        }
        return await GrainFactory.GetGrain<IFineTunedModelGrain>(modelId).RegisterAsync(registration with { Version = version });
    }

    public ValueTask<IReadOnlyList<Guid>> ListModelIdsAsync() =>
        ValueTask.FromResult<IReadOnlyList<Guid>>([.. state.State.ModelIds]);

    private Task WriteAsync(ModelRegistryState next) => state.CommitAsync(next);
}
