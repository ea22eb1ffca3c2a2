using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using ObjectaLabs.Orleans.Providers.OpenAi;
using ObjectaLabs.Orleans.Providers.Sandbox;
using ObjectaLabs.Orleans.Providers.Together;

namespace ObjectaLabs.Orleans.Providers.Accounts;

public static class ProviderServiceCollectionExtensions
{
    /// <summary>The Data Protection application name: the same on every silo, or they cannot read each other's ciphertexts.</summary>
    public const string DataProtectionApplication = "objectalabs-fine-tuning";

    /// <summary>
    /// OpenAI and Together as <see cref="IFineTuningProvider"/>s, their options (validated at start-up),
    /// <see cref="ProviderAccounts"/>, and Data Protection with its key ring in PostgreSQL, encrypted with the
    /// <see cref="DataProtectionSettings"/> certificate, for organizations' own keys. Needs an <see cref="NpgsqlDataSource"/> and a <see cref="TimeProvider"/>.
    /// </summary>
    public static IServiceCollection AddFineTuningProviders(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<OpenAiProviderOptions>().Bind(configuration.GetSection(OpenAiProviderOptions.Section))
            .Validate(o => IsHttp(o.BaseUrl), "Providers:OpenAI:BaseUrl must be an absolute http(s) URL.")
            .Validate(Annotations, "Providers:OpenAI: Timeout must be between 50 ms and 10 minutes.").ValidateOnStart();
        services.AddOptions<TogetherProviderOptions>().Bind(configuration.GetSection(TogetherProviderOptions.Section))
            .Validate(o => IsHttp(o.BaseUrl), "Providers:Together:BaseUrl must be an absolute http(s) URL.")
            .Validate(Annotations, "Providers:Together: AttemptTimeout (50 ms..10 min), MaxRetries (0..10), RetryBaseDelay (0..1 min) or MaxInlineRetryAfter (0..5 min) out of range.")
            .ValidateOnStart();

        var dataProtection = services.AddDataProtection().SetApplicationName(DataProtectionApplication);
        var keyRing = configuration.GetSection(DataProtectionSettings.Section).Get<DataProtectionSettings>() ?? new DataProtectionSettings();
        if (keyRing.Enabled)
        {
            // Loaded now, so a wrong path, password or key type stops the build naming the setting. The certificate
            // encrypts every key written to the ring and decrypts them on any silo that has the same file.
            dataProtection.ProtectKeysWithCertificate(keyRing.LoadCertificate());
        }
        // Without a certificate the ring would be plaintext beside the ciphertexts: refused at start outside Development.
        services.AddOptions<DataProtectionSettings>().Bind(configuration.GetSection(DataProtectionSettings.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DataProtectionSettings>, KeyRingProtectionCheck>();
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp =>
            new ConfigureOptions<KeyManagementOptions>(o => o.XmlRepository = new PostgresXmlRepository(sp.GetRequiredService<NpgsqlDataSource>())));
        services.AddSingleton<ProviderKeyStore>();
        services.AddSingleton<ProviderAccounts>();

        services.AddSingleton<OpenAiProvider>();
        services.AddSingleton<IFineTuningProvider>(sp => sp.GetRequiredService<OpenAiProvider>());
        services.AddTogetherClient();
        services.AddSingleton<TogetherProvider>();
        services.AddSingleton<IFineTuningProvider>(sp => sp.GetRequiredService<TogetherProvider>());
        services.AddSandboxProvider(configuration);
        return services;
    }

    private static bool Annotations<T>(T options) where T : class =>
        System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), null, validateAllProperties: true);

    private static bool IsHttp(Uri? url) => url is { IsAbsoluteUri: true } && url.Scheme is "http" or "https";
}
