using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Hosting;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Models;

/// <summary>The registry entry of one fine-tuned model (see <see cref="IFineTunedModelGrain"/>).</summary>
public sealed class FineTunedModelGrain(
    [PersistentState("model", StorageNames.Postgres)] IPersistentState<FineTunedModelState> state,
    BaseModelCatalog catalog,
    FineTunedModelRows rows,
    TimeProvider clock,
    ILogger<FineTunedModelGrain> logger) : Grain, IFineTunedModelGrain
{
    private Guid Id => this.GetPrimaryKey();

    public async Task<FineTunedModelInfo> RegisterAsync(ModelRegistration registration)
    {
        if (state.State.Model is { } existing)
        {
            if (existing.JobId == registration.JobId && existing.OrganizationId == registration.OrganizationId)
            {
                return existing;
            }
            throw ProblemException.Conflict($"Model {Id} is already registered for another job.");
        }
        var now = clock.GetUtcNow();
        var model = new FineTunedModelInfo(
            Id, registration.OrganizationId, registration.JobId, registration.AgentId, registration.Name, registration.Version,
            Description: null, registration.Provider, registration.ProviderModelId, registration.BaseModel, ModelStatus.Active,
            catalog.Find(registration.BaseModel)?.ShutdownDate, registration.DatasetHash, registration.TrainingExamples,
            registration.ValidationExamples, registration.Simulated, now, now);
        // The row first (its constraints may still refuse, and then nothing has changed), then the state.
        await rows.UpsertAsync(model);
        await state.CommitAsync(new FineTunedModelState { Model = model });
        logger.LogInformation("Model {ModelId} v{Version} registered from job {JobId}", Id, model.Version, model.JobId);
        return model;
    }

    public ValueTask<FineTunedModelInfo> GetAsync(Guid organizationId) =>
        state.State.Model is { } model && model.OrganizationId == organizationId
            ? ValueTask.FromResult(model)
            : throw ProblemException.NotFound("Model", Id);
}
