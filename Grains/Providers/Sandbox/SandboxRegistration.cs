using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ObjectaLabs.Orleans.Providers.Sandbox;

public static class SandboxRegistration
{
    /// <summary>The simulated provider and its options (validated at start-up). Needs an NpgsqlDataSource and a TimeProvider.</summary>
    public static IServiceCollection AddSandboxProvider(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SandboxProviderOptions>().Bind(configuration.GetSection(SandboxProviderOptions.Section))
            .Validate(o => System.ComponentModel.DataAnnotations.Validator.TryValidateObject(o, new(o), null, validateAllProperties: true),
                "Providers:Sandbox: ValidatingDuration/QueuedDuration (0..1 h), StepDuration (1 ms..10 min), StepsPerEpoch (1..1000), DefaultEpochs (1..50) or SlowFactor (1..1000) out of range.")
            .ValidateOnStart();
        services.AddSingleton<SandboxProvider>();
        services.AddSingleton<IFineTuningProvider>(sp => sp.GetRequiredService<SandboxProvider>());
        return services;
    }
}
