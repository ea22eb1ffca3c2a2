using ObjectaLabs.Orleans.Silo.Hosting;

namespace ObjectaLabs.Orleans.Silo;

public static class Program
{
    public static async Task Main(string[] args)
    {
        using var host = SiloHostBuilder.Build(args);
        // Ctrl-C and SIGTERM stop the host gracefully: Orleans deactivates the grains, which write their state.
        await host.RunAsync();
    }
}
