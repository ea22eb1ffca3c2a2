using Microsoft.Extensions.Options;
using ObjectaLabs.Orleans.Api.Security;

namespace ObjectaLabs.Orleans.Api.Hosting;

/// <summary>Start-up checks of the API's option sections, each failure naming the setting at fault.</summary>
public static class StartupValidation
{
    public static IServiceCollection AddValidatedApiOptions(this IServiceCollection services)
    {
        services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<PlatformOptions>()
            .Validate(o => string.IsNullOrWhiteSpace(o.AdminKey) || o.AdminKey.Trim().Length >= PlatformAdminKey.MinimumLength,
                $"Platform:AdminKey must be at least {PlatformAdminKey.MinimumLength} characters.")
            .Validate(o => string.IsNullOrWhiteSpace(o.AdminKey) || PlatformAdminKey.Weakness(o.AdminKey.Trim()) is null,
                $"Platform:AdminKey is too simple: it needs at least {PlatformAdminKey.MinimumDistinctCharacters} different characters (use a random key).")
            .Validate(o => string.IsNullOrWhiteSpace(o.AdminKey) || o.AdminKey.Trim().StartsWith("olp_", StringComparison.Ordinal),
                "Platform:AdminKey must start with 'olp_' (the API tells platform keys from organization keys by it).")
            .Validate(o => !string.IsNullOrWhiteSpace(o.AdminKey) || !string.IsNullOrWhiteSpace(o.DataDirectory),
                "No platform admin key: set Platform:AdminKey, or Platform:DataDirectory to have one generated there (./run does this).")
            .ValidateOnStart();
        services.AddOptions<AuthSettings>().BindConfiguration(AuthSettings.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RateLimitSettings>().BindConfiguration(RateLimitSettings.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RateLimitSettings>, RateLimitSettingsValidator>();
        return services;
    }

    private sealed class RateLimitSettingsValidator : IValidateOptions<RateLimitSettings>
    {
        public ValidateOptionsResult Validate(string? name, RateLimitSettings options)
        {
            var failures = new List<string>();
            Check("Admin", options.Admin);
            Check("Runtime", options.Runtime);
            Check("Resolution", options.Resolution);
            Check("Platform", options.Platform);
            Check("Anonymous", options.Anonymous);
            Check("UnverifiedKeys", options.UnverifiedKeys);
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

            void Check(string bucket, RateLimitSettings.BucketSettings? settings)
            {
                if (settings is null)
                {
                    failures.Add($"{RateLimitSettings.Section}:{bucket} is missing.");
                    return;
                }
                if (settings.PermitsPerSecond < 1)
                {
                    failures.Add($"{RateLimitSettings.Section}:{bucket}:PermitsPerSecond must be at least 1 (is {settings.PermitsPerSecond}).");
                }
                if (settings.Burst < 1)
                {
                    failures.Add($"{RateLimitSettings.Section}:{bucket}:Burst must be at least 1 (is {settings.Burst}).");
                }
            }
        }
    }
}
