namespace ObjectaLabs.Orleans.Deployment;

/// <summary>The OpenAI-compatible base URL of each provider that has one (the runtime calls the model there).</summary>
public static class ProviderEndpoints
{
    public static string? BaseUrlOf(string provider) => provider switch
    {
        "openai" => "https://api.openai.com/v1",
        "together" => "https://api.together.xyz/v1",
        // The sandbox trains simulated models and serves none: the runtime has nothing to call.
        _ => null,
    };
}
