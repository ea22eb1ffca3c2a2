namespace ObjectaLabs.Orleans.Providers.Accounts;

/// <summary>The providers' catalog names, in one place.</summary>
public static class ProviderNames
{
    public const string OpenAi = "openai";
    public const string Together = "together";
    public const string Sandbox = "sandbox";

    /// <summary>Providers that take an API key (and so an organization's own key).</summary>
    public static readonly IReadOnlyList<string> Keyed = [OpenAi, Together];
}
