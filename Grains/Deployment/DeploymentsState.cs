using ObjectaLabs.Orleans.FewShot;

namespace ObjectaLabs.Orleans.Deployment;

/// <summary>What an organization's deployments grain persists. Immutable: a change builds the next one with <c>with</c>.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.deployments-state")]
public sealed record class DeploymentsState
{
    /// <summary>Each agent's deployment, by agent id.</summary>
    [Id(0)] public IReadOnlyDictionary<Guid, AgentDeployment> Agents { get; init; } = new Dictionary<Guid, AgentDeployment>();

    /// <summary>Grows by one with every change.</summary>
    [Id(1)] public long Version { get; init; }

    /// <summary>Each agent's few-shot template, by agent id.</summary>
    [Id(2)] public IReadOnlyDictionary<Guid, FewShotTemplate> FewShot { get; init; } = new Dictionary<Guid, FewShotTemplate>();
}
