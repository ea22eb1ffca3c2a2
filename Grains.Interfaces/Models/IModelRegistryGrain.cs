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

    /// <summary>The organization's models as cards, oldest first; deleted ones only when <paramref name="includeDeleted"/>.</summary>
    [Alias("list-cards")]
    Task<IReadOnlyList<ModelCard>> ListCardsAsync(bool includeDeleted);

    /// <summary>One model's card (not found for another organization's model).</summary>
    [Alias("card")]
    Task<ModelCard> GetCardAsync(Guid modelId);

    /// <summary>The organization's default model, or null.</summary>
    [Alias("default"), global::Orleans.Concurrency.AlwaysInterleave]
    ValueTask<Guid?> GetDefaultAsync();

    /// <summary>Makes an active model of this organization its default (null clears it); any other status is refused.</summary>
    [Alias("set-default")]
    Task<Guid?> SetDefaultAsync(Guid? modelId);

    /// <summary>Told by a model that it no longer serves (archived, deleted, retired): a default on it is cleared.</summary>
    [Alias("model-stopped-serving")]
    Task ModelStoppedServingAsync(Guid modelId);
}
