namespace ObjectaLabs.Orleans.Models;

/// <summary>
/// One organization's model registry, keyed by the organization id: it numbers versions within a model line
/// (a retrain of "Customer Support Model" becomes v2) and indexes the organization's models. Finished jobs
/// register through it, never through the model grain directly.
/// </summary>
[Alias("objectalabs.IModelRegistryGrain")]
public interface IModelRegistryGrain : IGrainWithGuidKey
{
    /// <summary>
    /// Registers the model a job produced: the version in <paramref name="registration"/> is ignored and the
    /// next one in its line (same name, case-insensitive) is assigned. Idempotent per job: a retried call answers
    /// the model registered the first time, with the same id and version.
    /// </summary>
    [Alias("register")]
    Task<FineTunedModelInfo> RegisterAsync(ModelRegistration registration);

    /// <summary>The ids of the organization's models, oldest first.</summary>
    [Alias("list-ids"), global::Orleans.Concurrency.ReadOnly]
    ValueTask<IReadOnlyList<Guid>> ListModelIdsAsync();
}
