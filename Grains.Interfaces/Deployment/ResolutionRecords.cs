using ObjectaLabs.Orleans.FewShot;
using ObjectaLabs.Orleans.Models;
using ObjectaLabs.Orleans.Organizations;

namespace ObjectaLabs.Orleans.Deployment;

/// <summary>
/// Where a model choice sends a request: the provider, its model id, its OpenAI-compatible base URL (where it has one),
/// and whether it serves now (and why not when it does not). A fine-tuned target names its <see cref="BaseModel"/>. A
/// target that keeps failing cools down until <see cref="CoolingDownUntil"/>, and its traffic goes to the fallback meanwhile.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.model-target")]
public sealed record class ModelTarget(
    string Provider,
    string ProviderModel,
    string? BaseUrl,
    Guid? ModelId,
    string? Name,
    int? Version,
    bool Serves,
    string? NotServingReason,
    DateOnly? ShutdownDate = null,
    string? BaseModel = null,
    DateTimeOffset? CoolingDownUntil = null)
{
    /// <summary>
    /// True when the target serves at <paramref name="now"/>: not from its base model's shutdown date on, and not while it
    /// cools down after failures (<see cref="CoolingDownUntil"/>, set from usage reports).
    /// </summary>
    public bool ServesAt(DateTimeOffset now) =>
        Serves && (ShutdownDate is not { } date || DateOnly.FromDateTime(now.UtcDateTime) < date) && (CoolingDownUntil is not { } until || now >= until);

    /// <summary>Why the target does not serve at <paramref name="now"/> (null when it does).</summary>
    public string? NotServingReasonAt(DateTimeOffset now) =>
        ServesAt(now) ? null
        : !Serves ? NotServingReason ?? "not serving"
        : ShutdownDate is { } date && DateOnly.FromDateTime(now.UtcDateTime) >= date ? $"base model shut down on {date:yyyy-MM-dd}"
        : $"cooling down after failures until {CoolingDownUntil:yyyy-MM-ddTHH:mm:ssZ}";
}

/// <summary>
/// Everything resolution needs for one organization, answered from memory in each API process: the deployments, the
/// targets of every model they name, the active keys (id, scope, hash) so keys are checked from memory too, and what an
/// agent with no deployment resolves to: the organization's default model, else the agent's base model (active agents),
/// and the agents' few-shot templates. <see cref="Version"/> grows with every change to any of them.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.resolution-snapshot")]
public sealed record class ResolutionSnapshot(
    Guid OrganizationId,
    long Version,
    IReadOnlyDictionary<Guid, AgentDeployment> Agents,
    IReadOnlyDictionary<Guid, ModelTarget> FineTuned,
    IReadOnlyDictionary<string, ModelTarget> BaseModels,
    IReadOnlyList<ActiveKey> Keys,
    IReadOnlyDictionary<Guid, string?>? AgentBaseModels = null,
    Guid? DefaultModel = null,
    IReadOnlyDictionary<Guid, FewShotTemplate>? FewShot = null)
{
    /// <summary>The target of <paramref name="choice"/>; a model the snapshot does not know never serves.</summary>
    public ModelTarget TargetOf(ModelChoice choice) =>
        (choice.ModelId is { } id ? FineTuned.GetValueOrDefault(id) : BaseModels.GetValueOrDefault(choice.BaseModel ?? ""))
        ?? new ModelTarget("unknown", choice.ModelId?.ToString() ?? choice.BaseModel ?? "", null, choice.ModelId, null, null, false, "unknown model");
}

/// <summary>An API process that holds organizations' snapshots in memory and is told of every change.</summary>
[Alias("objectalabs.IResolutionObserver")]
public interface IResolutionObserver : IGrainObserver
{
    [Alias("changed"), global::Orleans.Concurrency.OneWay]
    Task ChangedAsync(ResolutionSnapshot snapshot);
}

/// <summary>The publishing side of resolution, on the organization's deployments grain.</summary>
[Alias("objectalabs.IResolutionPublisher")]
public interface IResolutionPublisher : IGrainWithGuidKey
{
    /// <summary>
    /// Subscribes <paramref name="observer"/> to the organization's changes (a subscription lapses unless renewed within
    /// a minute) and answers the current snapshot, so a renewal also detects a missed update by its version.
    /// </summary>
    [Alias("subscribe")]
    Task<ResolutionSnapshot> SubscribeAsync(IResolutionObserver observer);

    [Alias("unsubscribe")]
    Task UnsubscribeAsync(IResolutionObserver observer);

    /// <summary>Told by a model grain that its status changed: the snapshot is rebuilt and pushed when the model is deployed.</summary>
    [Alias("model-changed")]
    Task ModelChangedAsync(Guid modelId);

    /// <summary>
    /// Told by the organization grain (keys issued or revoked, agents added, changed or archived) or the model registry
    /// (the default model) that what resolution reads from them changed: they are read back and the snapshot pushed.
    /// One-way, so neither ever waits on this grain.
    /// </summary>
    [Alias("sources-changed"), global::Orleans.Concurrency.OneWay]
    Task SourcesChangedAsync();

    /// <summary>
    /// Told by a model grain that the model cools down until <paramref name="coolingDownUntil"/> after failures (null: it
    /// serves again): the snapshot is rebuilt and pushed. Held in memory only: a cool-down is short, and one lost with an
    /// activation simply ends early.
    /// </summary>
    [Alias("cooldown-changed"), global::Orleans.Concurrency.OneWay]
    Task CooldownChangedAsync(ModelChoice model, DateTimeOffset? coolingDownUntil);
}
