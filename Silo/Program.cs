using Microsoft.Extensions.Options;
using ObjectaLabs.Orleans.Silo.Hosting;

namespace ObjectaLabs.Orleans.Silo;

public static class Program
{
    public static async Task Main(string[] args)
    {
        using var host = SiloHostBuilder.Build(args);
        var settings = host.Services.GetRequiredService<IOptions<SiloSettings>>().Value;
        var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ObjectaLabs.Orleans.Silo");
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        lifetime.ApplicationStarted.Register(() => logger.LogInformation(
            "Silo up: cluster {ClusterId}, silo port {SiloPort}, gateway port {GatewayPort} on {Address}{Tls}",
            settings.ClusterId, settings.SiloPort, settings.GatewayPort, settings.AdvertisedIPAddress,
            settings.Tls.Enabled ? " (mutual TLS)" : ""));
        // Ctrl-C and SIGTERM stop the host gracefully: Orleans deactivates the grains, which write their state.
        lifetime.ApplicationStopping.Register(() => ShutdownWatchdog.Arm(settings.ShutdownTimeout + SiloSettings.ShutdownGrace, logger));
        await host.RunAsync();
    }
}
