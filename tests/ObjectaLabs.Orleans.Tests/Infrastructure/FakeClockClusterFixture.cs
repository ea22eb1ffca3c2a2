using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ObjectaLabs.Orleans.ProviderEmulators;
using ObjectaLabs.Orleans.Silo.Hosting;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace ObjectaLabs.Orleans.Tests.Infrastructure;

/// <summary>
/// An in-process cluster on a fake clock (<see cref="FakeTimeProvider"/>): the application's clock, grain timers and
/// reminders move only when a test calls <see cref="FakeTimeProvider.Advance"/>, so time-driven behaviour (polling,
/// back-off, giving up after days) is tested without sleeping. Orleans' own background loops (membership, messaging,
/// directory, activation collection) stay on real time, so advancing the fake clock never runs them. Grain storage and
/// reminders are the real ADO.NET providers on a fresh PostgreSQL database; jobs follow the sandbox (on the same fake
/// clock) or the OpenAI emulator over real HTTP, with production's intervals: a one-minute reminder, at most 30 minutes
/// of back-off, and three days of faults before a job is given up.
/// </summary>
public sealed class FakeClockClusterFixture : IAsyncLifetime
{
    private const string ConnectionStringKey = "TestPostgres";
    private const string ClockKey = "TestClock";

    // The silo is in this process: it finds its clock here by the id the builder's properties carry.
    private static readonly ConcurrentDictionary<string, FakeTimeProvider> Clocks = new();

    private readonly string _clockId = Guid.NewGuid().ToString("N");

    // Starts on a whole second: PostgreSQL keeps microseconds, so times read back compare exactly.
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
    public TestCluster Cluster { get; private set; } = null!;
    public TestDatabase Database { get; private set; } = null!;
    public ProviderEmulatorHost Emulators { get; private set; } = null!;
    public IGrainFactory Grains => Cluster.GrainFactory;

    public async Task InitializeAsync()
    {
        Clocks[_clockId] = Clock;
        Database = await TestDatabase.CreateAsync();
        Emulators = await ProviderEmulatorHost.StartAsync(new EmulatorOptions { Tick = TimeSpan.FromMilliseconds(40), TotalSteps = 6 });
        var builder = new TestClusterBuilder(1);
        builder.Properties[ConnectionStringKey] = Database.ConnectionString;
        builder.Properties[ClockKey] = _clockId;
        builder.Properties["Providers:OpenAI:ApiKey"] = "sk-platform-clock-0123456789";
        builder.Properties["Providers:OpenAI:BaseUrl"] = Emulators.OpenAiBaseUrl.ToString();
        builder.Properties["Providers:OpenAI:Timeout"] = "00:00:02";
        foreach (var (key, value) in KeyRingCertificate.Shared.Settings)
        {
            builder.Properties[key] = value!;
        }
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        await Emulators.DisposeAsync();
        await Database.DisposeAsync();
        Clocks.TryRemove(_clockId, out _);
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            var configuration = siloBuilder.Configuration;
            SiloHostBuilder.ConfigureServiceParts(siloBuilder, configuration, configuration[ConnectionStringKey]!,
                new SiloSettings { MinimumReminderPeriod = TimeSpan.FromMinutes(1), Dashboard = false });
            var clock = Clocks[configuration[ClockKey]!];
            // The default clock (the application's, grain timers', reminders') is the fake one; the runtime's own
            // maintenance areas are pinned to real time.
            siloBuilder.Services.AddSingleton<TimeProvider>(clock);
            foreach (var area in new[]
            {
                TimeProviderNames.Messaging, TimeProviderNames.SystemTimers, TimeProviderNames.Membership,
                TimeProviderNames.ActivationManagement, TimeProviderNames.GrainDirectory,
            })
            {
                siloBuilder.Services.AddKeyedSingleton(area, TimeProvider.System);
            }
            // Orleans keeps in memory only reminders due within its loading window, and loads later ones from the table on
            // a refresh that runs on real time: on a clock that jumps weeks, every reminder must stay loaded.
            siloBuilder.Services.Configure<ReminderOptions>(o => o.ReminderLoadingWindow = TimeSpan.FromDays(400));
        }
    }
}
