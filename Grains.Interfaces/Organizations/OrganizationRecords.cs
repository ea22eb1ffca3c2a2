using ObjectaLabs.Orleans.Plans;

namespace ObjectaLabs.Orleans.Organizations;

/// <summary>An agent of the organization: the unit that asks for a model on every request.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.agent")]
public sealed record class AgentInfo(Guid Id, string Name, string? DefaultBaseModel, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? ArchivedAt = null);

/// <summary>The organization as its admins see it.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.organization")]
public sealed record class OrganizationSnapshot(
    Guid Id,
    string Name,
    PlanDefinition Plan,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    int AgentCount,
    int ActiveApiKeyCount,
    int FineTunedModelCount);

/// <summary>A new organization and the first admin key, which is shown once.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.organization-created")]
public sealed record class OrganizationCreated(OrganizationSnapshot Organization, IssuedApiKey AdminKey);

/// <summary>One row of the platform's organization list.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.organization-summary")]
public sealed record class OrganizationSummary(Guid Id, string Name, string Plan, DateTimeOffset CreatedAt);
