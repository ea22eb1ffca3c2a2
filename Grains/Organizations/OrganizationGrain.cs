using System.Security.Cryptography;
using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Deployment;
using ObjectaLabs.Orleans.Hosting;
using ObjectaLabs.Orleans.Plans;
using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Text;

namespace ObjectaLabs.Orleans.Organizations;

/// <summary>
/// The organization: settings, plan, agents and API keys in grain state, mirrored to the
/// <c>organizations</c> and <c>agents</c> rows that the rest of the schema references.
/// </summary>
public sealed class OrganizationGrain(
    [PersistentState("organization", StorageNames.Postgres)] IPersistentState<OrganizationState> state,
    PlanCatalog plans,
    BaseModelCatalog models,
    OrganizationRows rows,
    TimeProvider clock,
    ILogger<OrganizationGrain> logger) : Grain, IOrganizationGrain
{
    private const int MaxNameLength = 200;
    private const int MaxAgents = 1000;
    private const int MaxActiveKeys = 100;
    // Revoked keys stay listed (as revoked) for a while, then leave the state: it must not grow with every rotation.
    private const int MaxRevokedKeysKept = 100;
    private static readonly TimeSpan RevokedKeysKeptFor = TimeSpan.FromDays(90);
    // Last-used times are informative; writing state on every authentication would put a database
    // write on the request path, so they are persisted at most this often per key.
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan UsageFlushDelay = TimeSpan.FromSeconds(1);
    private static readonly ApiKeyCheck Rejected = new(ApiKeyCheckOutcome.Rejected, null);
    private static readonly ApiKeyCheck UnknownOrganization = new(ApiKeyCheckOutcome.UnknownOrganization, null);

    // In memory only: keys used since the last write of their last-used time, and the timer that writes them.
    private readonly Dictionary<string, DateTimeOffset?> _usedSince = new(StringComparer.Ordinal);
    private IGrainTimer? _usageFlush;

    private Guid Id => this.GetPrimaryKey();
    private OrganizationState S => state.State;

    public async Task<OrganizationCreated> CreateAsync(string name, string plan)
    {
        if (S.Exists)
        {
            throw ProblemException.Conflict($"Organization {Id} already exists.");
        }
        var cleanName = RequireName(name, "name");
        var planDefinition = plans.Get(plan);
        var now = clock.GetUtcNow();

        // The row goes first (the one rule, see CommitAsync); if the state write then fails, the row is
        // removed again so nothing half-made is left, and a retry with the same id starts clean.
        await rows.InsertOrganizationAsync(Id, cleanName, planDefinition.Name, now);
        var next = S.Copy();
        next.Exists = true;
        next.Name = cleanName;
        next.Plan = planDefinition.Name;
        next.CreatedAt = now;
        next.UpdatedAt = now;
        var key = NewKey(next, "Initial admin key", ApiKeyScope.Admin, now);
        try
        {
            await CommitAsync(next);
        }
        catch
        {
            await rows.DeleteOrganizationAsync(Id);
            throw;
        }
        logger.LogInformation("Organization {OrganizationId} created on plan {Plan}", Id, planDefinition.Name);
        return new OrganizationCreated(Snapshot(), key);
    }

    public ValueTask<OrganizationSnapshot> GetAsync()
    {
        RequireExists();
        return ValueTask.FromResult(Snapshot());
    }

    public async Task<OrganizationSnapshot> RenameAsync(string name)
    {
        RequireExists();
        var next = S.Copy();
        next.Name = RequireName(name, "name");
        next.UpdatedAt = clock.GetUtcNow();
        await rows.UpdateOrganizationAsync(Id, next.Name, next.Plan, next.UpdatedAt);
        await CommitAsync(next);
        return Snapshot();
    }

    public async Task<OrganizationSnapshot> ChangePlanAsync(string plan)
    {
        RequireExists();
        var target = plans.Get(plan);
        if (target.MaxFineTunedModels is { } maxModels)
        {
            // The registry is the one index of the organization's models.
            var models = (await GrainFactory.GetGrain<ObjectaLabs.Orleans.Models.IModelRegistryGrain>(Id).ListModelIdsAsync()).Count;
            if (models > maxModels)
            {
                throw PlanLimits.Exceeded(target, "maxFineTunedModels", maxModels, models, 0,
                    $"The organization has {models} fine-tuned models; plan '{target.Name}' allows {maxModels}. Archive models first.");
            }
        }
        var from = S.Plan;
        var next = S.Copy();
        next.Plan = target.Name;
        next.UpdatedAt = clock.GetUtcNow();
        await rows.ChangePlanAsync(Id, next.Name, next.Plan, next.UpdatedAt,
            examples => target.MaxTrainingExamples is { } maxExamples && examples > maxExamples
                ? PlanLimits.Exceeded(target, "maxTrainingExamples", maxExamples, examples, 0,
                    $"The organization has {examples} training examples; plan '{target.Name}' allows {maxExamples}. Delete examples first.")
                : null,
            () => CommitAsync(next));
        logger.LogInformation("Organization {OrganizationId} moved from plan {From} to {To}", Id, from, target.Name);
        return Snapshot();
    }

    public ValueTask<PlanDefinition> GetPlanAsync()
    {
        RequireExists();
        return ValueTask.FromResult(plans.Get(S.Plan));
    }

    public async Task<AgentInfo> AddAgentAsync(string name, string? defaultBaseModel)
    {
        RequireExists();
        if (S.Agents.Values.Count(a => a.ArchivedAt is null) >= MaxAgents)
        {
            throw ProblemException.Conflict($"An organization can have at most {MaxAgents} agents.");
        }
        var now = clock.GetUtcNow();
        var agent = new AgentState
        {
            Name = RequireName(name, "name"),
            DefaultBaseModel = OptionalModel(defaultBaseModel),
            CreatedAt = now,
            UpdatedAt = now,
        };
        var id = Guid.CreateVersion7(now);
        await rows.UpsertAgentAsync(Id, id, agent);
        var next = S.Copy();
        next.Agents[id] = agent;
        await CommitAsync(next);
        PublishSources();
        return ToInfo(id, agent);
    }

    public async Task<AgentInfo> UpdateAgentAsync(Guid agentId, string? name, string? defaultBaseModel)
    {
        RequireExists();
        var agent = RequireAgent(agentId);
        if (agent.ArchivedAt is not null)
        {
            throw ProblemException.Conflict($"Agent {agentId} is archived; archived agents cannot be changed.", "agentId");
        }
        var updated = new AgentState
        {
            Name = name is null ? agent.Name : RequireName(name, "name"),
            DefaultBaseModel = defaultBaseModel is null ? agent.DefaultBaseModel : OptionalModel(defaultBaseModel),
            CreatedAt = agent.CreatedAt,
            UpdatedAt = clock.GetUtcNow(),
        };
        await rows.UpsertAgentAsync(Id, agentId, updated);
        var next = S.Copy();
        next.Agents[agentId] = updated;
        await CommitAsync(next);
        PublishSources();
        return ToInfo(agentId, updated);
    }

    public async Task<AgentInfo> ArchiveAgentAsync(Guid agentId)
    {
        RequireExists();
        var agent = RequireAgent(agentId);
        if (agent.ArchivedAt is not null)
        {
            return ToInfo(agentId, agent);
        }
        var archived = agent.Copy();
        archived.ArchivedAt = archived.UpdatedAt = clock.GetUtcNow();
        // The row is archived, never deleted: conversations and examples keep pointing at it.
        await rows.UpsertAgentAsync(Id, agentId, archived);
        var next = S.Copy();
        next.Agents[agentId] = archived;
        await CommitAsync(next);
        PublishSources();
        logger.LogInformation("Organization {OrganizationId} archived agent {AgentId}", Id, agentId);
        return ToInfo(agentId, archived);
    }

    public ValueTask<IReadOnlyList<AgentInfo>> ListAgentsAsync(bool includeArchived = false)
    {
        RequireExists();
        IReadOnlyList<AgentInfo> list = S.Agents.Where(a => includeArchived || a.Value.ArchivedAt is null)
            .OrderBy(a => a.Value.CreatedAt).ThenBy(a => a.Key).Select(a => ToInfo(a.Key, a.Value)).ToList();
        return ValueTask.FromResult(list);
    }

    public ValueTask<AgentInfo> GetAgentAsync(Guid agentId)
    {
        RequireExists();
        return ValueTask.FromResult(ToInfo(agentId, RequireAgent(agentId)));
    }

    public async Task<IssuedApiKey> IssueApiKeyAsync(string name, ApiKeyScope scope)
    {
        RequireExists();
        if (!Enum.IsDefined(scope))
        {
            throw ProblemException.Invalid("scope", "Scope must be 'admin' or 'runtime'.");
        }
        if (S.ApiKeys.Values.Count(k => k.RevokedAt is null) >= MaxActiveKeys)
        {
            throw ProblemException.Conflict($"An organization can have at most {MaxActiveKeys} active API keys; revoke unused ones first.");
        }
        var next = S.Copy();
        var key = NewKey(next, RequireName(name, "name"), scope, clock.GetUtcNow());
        PruneRevokedKeys(next, clock.GetUtcNow());
        await CommitAsync(next);
        PublishSources();
        logger.LogInformation("Organization {OrganizationId} issued {Scope} key {KeyId}", Id, scope, key.Info.Id);
        return key;
    }

    public ValueTask<IReadOnlyList<ApiKeyInfo>> ListApiKeysAsync()
    {
        RequireExists();
        IReadOnlyList<ApiKeyInfo> list = S.ApiKeys.OrderByDescending(k => k.Value.CreatedAt).Select(k => ToInfo(k.Key, k.Value)).ToList();
        return ValueTask.FromResult(list);
    }

    public async Task<ApiKeyInfo> RevokeApiKeyAsync(string keyId)
    {
        RequireExists();
        if (!S.ApiKeys.TryGetValue(keyId, out var key))
        {
            throw ProblemException.NotFound("API key", keyId);
        }
        if (key.RevokedAt is null)
        {
            // Changed on a copy: a failed write must neither leave the key looking revoked in memory while the
            // stored state still accepts it, nor be undone silently later.
            var next = S.Copy();
            next.ApiKeys[keyId].RevokedAt = clock.GetUtcNow();
            PruneRevokedKeys(next, clock.GetUtcNow());
            await CommitAsync(next);
            PublishSources();
            key = next.ApiKeys[keyId];
            logger.LogInformation("Organization {OrganizationId} revoked key {KeyId}", Id, keyId);
        }
        return ToInfo(keyId, key);
    }

    public ValueTask<ApiKeyCheck> AuthenticateAsync(string keyId, byte[] keyHash)
    {
        // Runs interleaved with every other call, so it only reads: the last-used time goes to memory and is
        // written by a non-interleaved timer turn (see FlushKeyUsageAsync), never from here.
        if (!S.Exists)
        {
            return ValueTask.FromResult(UnknownOrganization);
        }
        if (keyHash is null || !S.ApiKeys.TryGetValue(keyId ?? "", out var key) || key.RevokedAt is not null
            || !CryptographicOperations.FixedTimeEquals(key.Hash, keyHash))
        {
            return ValueTask.FromResult(Rejected);
        }
        var now = clock.GetUtcNow();
        if ((_usedSince.GetValueOrDefault(keyId!) ?? key.LastUsedAt) is not { } lastUsed || now - lastUsed > LastUsedResolution)
        {
            _usedSince[keyId!] = now;
            _usageFlush ??= this.RegisterGrainTimer(FlushKeyUsageAsync, new GrainTimerCreationOptions(UsageFlushDelay, Timeout.InfiniteTimeSpan));
        }
        return ValueTask.FromResult(new ApiKeyCheck(ApiKeyCheckOutcome.Valid, new ApiKeyIdentity(Id, keyId!, key.Scope)));
    }

    public ValueTask<OrganizationSources> GetResolutionSourcesAsync()
    {
        if (!S.Exists)
        {
            return ValueTask.FromResult(OrganizationSources.None);
        }
        IReadOnlyList<ActiveKey> keys = [.. S.ApiKeys.Where(k => k.Value.RevokedAt is null).OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => new ActiveKey(k.Key, k.Value.Scope, k.Value.Hash))];
        var agents = S.Agents.Where(a => a.Value.ArchivedAt is null).ToDictionary(a => a.Key, a => a.Value.DefaultBaseModel);
        return ValueTask.FromResult(new OrganizationSources(keys, agents));
    }

    public Task RecordKeyUseAsync(IReadOnlyDictionary<string, DateTimeOffset> usedAt)
    {
        // Interleaved like AuthenticateAsync: memory only, written by the flush timer's turn.
        var now = clock.GetUtcNow();
        foreach (var (keyId, at) in usedAt ?? new Dictionary<string, DateTimeOffset>())
        {
            // Revoked keys too: an API process may report use from before the revocation.
            if (!S.Exists || keyId is null || !S.ApiKeys.TryGetValue(keyId, out var key))
            {
                continue;
            }
            var used = at > now ? now : at;
            if ((_usedSince.GetValueOrDefault(keyId) ?? key.LastUsedAt) is not { } lastUsed || used - lastUsed > LastUsedResolution)
            {
                _usedSince[keyId] = used;
                _usageFlush ??= this.RegisterGrainTimer(FlushKeyUsageAsync, new GrainTimerCreationOptions(UsageFlushDelay, Timeout.InfiniteTimeSpan));
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Tells the organization's deployments grain that its keys or agents changed, so every API process holding the
    /// organization answers from the new set within the second. One-way: that grain reads them back with an
    /// interleaving call, and a lost message is caught by its periodic re-read.
    /// </summary>
    private void PublishSources() => GrainFactory.GetGrain<IDeploymentsGrain>(Id).SourcesChangedAsync().Ignore();

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await FlushKeyUsageAsync(cancellationToken);
        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    /// <summary>Writes the last-used times gathered in memory; a failed write keeps them for the next turn.</summary>
    private async Task FlushKeyUsageAsync(CancellationToken cancellationToken)
    {
        _usageFlush?.Dispose();
        _usageFlush = null;
        if (_usedSince.Count == 0 || !S.Exists)
        {
            return;
        }
        var pending = _usedSince.ToArray();
        var next = S.Copy();
        foreach (var (keyId, usedAt) in pending)
        {
            if (next.ApiKeys.TryGetValue(keyId, out var key) && (key.LastUsedAt is null || key.LastUsedAt < usedAt))
            {
                key.LastUsedAt = usedAt;
            }
        }
        try
        {
            await CommitAsync(next);
            foreach (var (keyId, usedAt) in pending)
            {
                if (_usedSince.TryGetValue(keyId, out var current) && current == usedAt)
                {
                    _usedSince.Remove(keyId);
                }
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(e, "Organization {OrganizationId} could not record key usage; retrying later", Id);
            _usageFlush ??= this.RegisterGrainTimer(FlushKeyUsageAsync, new GrainTimerCreationOptions(LastUsedResolution, Timeout.InfiniteTimeSpan));
        }
    }

    /// <summary>Drops revoked keys older than <see cref="RevokedKeysKeptFor"/>, and beyond the newest <see cref="MaxRevokedKeysKept"/>.</summary>
    private static void PruneRevokedKeys(OrganizationState target, DateTimeOffset now)
    {
        var revoked = target.ApiKeys.Where(k => k.Value.RevokedAt is not null).OrderByDescending(k => k.Value.RevokedAt).ToList();
        foreach (var (keyId, key) in revoked.Skip(MaxRevokedKeysKept).Concat(revoked.Take(MaxRevokedKeysKept).Where(k => now - k.Value.RevokedAt > RevokedKeysKeptFor)))
        {
            target.ApiKeys.Remove(keyId);
        }
    }

    private IssuedApiKey NewKey(OrganizationState target, string name, ApiKeyScope scope, DateTimeOffset now)
    {
        var (keyId, secret, prefix) = ApiKeyFormat.Create(Id);
        var stored = new ApiKeyState
        {
            Name = name,
            Prefix = prefix,
            Scope = scope,
            Hash = ApiKeyFormat.Hash(secret),
            CreatedAt = now,
        };
        target.ApiKeys[keyId] = stored;
        return new IssuedApiKey(ToInfo(keyId, stored), secret);
    }

    /// <summary>
    /// The one rule for grain state and relational rows, followed by every grain that has both: validate
    /// everything first; write the row next (its constraints may still refuse, and then nothing has changed);
    /// then write the grain state from a changed copy, which becomes the live state only once the write
    /// succeeded. The grain state is the source of truth; the row mirrors it for reporting, and a row left one
    /// change ahead by a failed state write is overwritten by the entity's next successful change.
    /// </summary>
    private Task CommitAsync(OrganizationState next) => state.CommitAsync(next);

    private void RequireExists()
    {
        if (!S.Exists)
        {
            throw ProblemException.NotFound("Organization", Id);
        }
    }

    private AgentState RequireAgent(Guid agentId) =>
        S.Agents.TryGetValue(agentId, out var agent) ? agent : throw ProblemException.NotFound("Agent", agentId);

    private static string RequireName(string? name, string field)
    {
        var trimmed = name?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            throw ProblemException.Invalid(field, $"'{field}' is required and must not be blank.");
        }
        if (trimmed.Length > MaxNameLength)
        {
            throw ProblemException.Invalid(field, $"'{field}' must be at most {MaxNameLength} characters.");
        }
        if (StorableText.Find(trimmed.AsSpan()) is { } fault)
        {
            throw ProblemException.Invalid(field, $"'{field}' holds text that cannot be stored: {fault.Reason}.");
        }
        return trimmed;
    }

    /// <summary>A catalog model id (as the catalog spells it) that the organization's plan allows, or null for none.</summary>
    private string? OptionalModel(string? model)
    {
        var trimmed = model?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            return null;
        }
        var id = models.Get(trimmed, "defaultBaseModel").Id;
        var plan = plans.Get(S.Plan);
        if (!plan.AllowsBaseModel(id))
        {
            throw new ProblemException(ProblemKind.PlanLimit, "Base model not in the plan",
                $"Plan '{plan.Name}' does not include '{id}'. " + (plan.AllowedBaseModels.Count == 0
                    ? "It includes no base models; leave 'defaultBaseModel' empty or move to a paid plan."
                    : $"It includes: {string.Join(", ", plan.AllowedBaseModels)}."),
                "defaultBaseModel",
                new Dictionary<string, string> { ["plan"] = plan.Name, ["limit"] = "allowedBaseModels" });
        }
        return id;
    }

    private OrganizationSnapshot Snapshot() => new(
        Id, S.Name, plans.Get(S.Plan), S.CreatedAt, S.UpdatedAt,
        S.Agents.Count, S.ApiKeys.Values.Count(k => k.RevokedAt is null), S.ModelIds.Count);

    private static AgentInfo ToInfo(Guid id, AgentState a) => new(id, a.Name, a.DefaultBaseModel, a.CreatedAt, a.UpdatedAt, a.ArchivedAt);

    private ApiKeyInfo ToInfo(string id, ApiKeyState k) =>
        new(id, k.Name, k.Prefix, k.Scope, k.CreatedAt, _usedSince.GetValueOrDefault(id) ?? k.LastUsedAt, k.RevokedAt);
}
