using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Problems;
using Orleans.Concurrency;

namespace ObjectaLabs.Orleans.Providers.Accounts;

/// <summary>
/// An organization's own provider keys: checks the plan and the input, then hands the key to the
/// encrypted store. Holds no state of its own (the table is the state); stateless so any silo serves it.
/// </summary>
[StatelessWorker]
public sealed class ProviderKeysGrain(ProviderKeyStore store, ILogger<ProviderKeysGrain> logger) : Grain, IProviderKeysGrain
{
    /// <summary>The plan that may bring its own keys.</summary>
    public const string EnterprisePlan = "enterprise";

    /// <summary>No provider issues keys longer than this; a longer value is a paste error.</summary>
    public const int MaxKeyLength = 512;

    private Guid OrganizationId => this.GetPrimaryKey();

    public async Task<ProviderKeyInfo> SetAsync(string provider, string apiKey)
    {
        provider = RequireProvider(provider);
        if (string.IsNullOrEmpty(apiKey))
        {
            throw ProblemException.Invalid("apiKey", "'apiKey' is required.");
        }
        if (apiKey.Length is < 8 or > MaxKeyLength || apiKey.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw ProblemException.Invalid("apiKey", $"'apiKey' must be 8 to {MaxKeyLength} characters with no spaces or control characters.");
        }
        await RequireEnterpriseAsync();
        var info = await store.SetAsync(OrganizationId, provider, apiKey);
        logger.LogInformation("Organization {OrganizationId} set its own {Provider} key ({Fingerprint})", OrganizationId, provider, info.Fingerprint);
        return info;
    }

    public async Task<ProviderKeyInfo> RemoveAsync(string provider)
    {
        provider = RequireProvider(provider);
        // Any plan may remove a key it holds: an organization that left Enterprise must be able to take its key back.
        await GrainFactory.GetGrain<IOrganizationGrain>(OrganizationId).GetPlanAsync();
        if (!await store.RemoveAsync(OrganizationId, provider))
        {
            throw ProblemException.NotFound("Provider key", provider);
        }
        logger.LogInformation("Organization {OrganizationId} removed its own {Provider} key", OrganizationId, provider);
        return new ProviderKeyInfo(provider, false, null, null, null);
    }

    public async Task<IReadOnlyList<ProviderKeyInfo>> ListAsync()
    {
        // Existence check only: any plan may see that it has no keys; a downgraded organization sees the ones it set.
        await GrainFactory.GetGrain<IOrganizationGrain>(OrganizationId).GetPlanAsync();
        return await store.ListAsync(OrganizationId);
    }

    private async Task RequireEnterpriseAsync()
    {
        var plan = await GrainFactory.GetGrain<IOrganizationGrain>(OrganizationId).GetPlanAsync();
        if (!string.Equals(plan.Name, EnterprisePlan, StringComparison.OrdinalIgnoreCase))
        {
            throw new ProblemException(ProblemKind.PlanLimit, "Enterprise plan required",
                $"Bringing your own provider key is an Enterprise feature; this organization is on the '{plan.Name}' plan. " +
                "Jobs use the platform's provider accounts, or the sandbox.",
                extensions: new Dictionary<string, string> { ["limit"] = "bringYourOwnKey", ["plan"] = plan.Name, ["requiredPlan"] = EnterprisePlan });
        }
    }

    private static string RequireProvider(string? provider)
    {
        var name = provider?.Trim().ToLowerInvariant();
        return name is not null && ProviderNames.Keyed.Contains(name)
            ? name
            : throw ProblemException.Invalid("provider", $"'{provider}' takes no key. Providers with keys: {string.Join(", ", ProviderNames.Keyed)}.");
    }
}
