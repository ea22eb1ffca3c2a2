using Microsoft.Extensions.Options;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Providers.Accounts;

/// <summary>
/// Decides as whom a provider is called for an organization: the organization's own key (Enterprise,
/// bring your own key) when it set one, else the platform's key from configuration. Neither: the provider
/// is not configured, a refusal that names what to do instead.
/// </summary>
public sealed class ProviderAccounts(
    IOptions<OpenAiProviderOptions> openAi,
    IOptions<TogetherProviderOptions> together,
    ProviderKeyStore keys)
{
    /// <summary>The sandbox needs no account: it runs in the silo.</summary>
    public static readonly ProviderAccount Sandbox = new(ProviderNames.Sandbox, null, new Uri("sandbox://local"));

    /// <summary>Whether the platform itself has a key for <paramref name="provider"/> (organizations' own keys aside).</summary>
    public bool IsPlatformConfigured(string provider) => provider switch
    {
        ProviderNames.OpenAi => !string.IsNullOrWhiteSpace(openAi.Value.ApiKey),
        ProviderNames.Together => !string.IsNullOrWhiteSpace(together.Value.ApiKey),
        ProviderNames.Sandbox => true,
        _ => false,
    };

    /// <summary>The account to call <paramref name="provider"/> with for this organization; refuses when there is none.</summary>
    public async Task<ProviderAccount> ResolveAsync(Guid organizationId, string provider, CancellationToken cancellationToken = default)
    {
        switch (provider)
        {
            case ProviderNames.Sandbox:
                return Sandbox;
            case ProviderNames.OpenAi:
                {
                    var options = openAi.Value;
                    var key = await keys.GetKeyAsync(organizationId, provider, cancellationToken);
                    return key is not null
                        ? new ProviderAccount(provider, key, options.BaseUrl)
                        : new ProviderAccount(provider, RequirePlatformKey(provider, options.ApiKey), options.BaseUrl, options.OrganizationId);
                }
            case ProviderNames.Together:
                {
                    var options = together.Value;
                    var key = await keys.GetKeyAsync(organizationId, provider, cancellationToken)
                        ?? RequirePlatformKey(provider, options.ApiKey);
                    return new ProviderAccount(provider, key, options.BaseUrl);
                }
            default:
                throw ProblemException.Invalid("provider", $"Unknown provider '{provider}'. Known: openai, together, sandbox.");
        }
    }

    private static string RequirePlatformKey(string provider, string? key) =>
        string.IsNullOrWhiteSpace(key)
            ? throw new ProblemException(ProblemKind.Validation, "Provider not configured",
                $"The provider '{provider}' is not configured: this deployment has no {provider} API key " +
                $"(Providers:{(provider == ProviderNames.OpenAi ? "OpenAI" : "Together")}:ApiKey) and the organization set none of its own. " +
                "Choose another configured provider, or 'sandbox' to train a simulated model.",
                "provider")
            : key;
}
