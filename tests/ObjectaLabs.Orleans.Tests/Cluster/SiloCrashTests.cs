using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ObjectaLabs.Orleans.Diagnostics;
using ObjectaLabs.Orleans.Hosting;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Tests.Infrastructure;
using Orleans.Configuration;
using Orleans.Hosting;
using Xunit.Abstractions;

namespace ObjectaLabs.Orleans.Tests.Cluster;

/// <summary>Two silo processes on one database; one is killed with SIGKILL and the other takes over.</summary>
public sealed class SiloCrashTests(ITestOutputHelper output) : IAsyncLifetime
{
    // Faster failure detection than production's defaults, so the test takes seconds, not a minute.
    private static readonly Dictionary<string, string> FastFailover = new()
    {
        ["Orleans__MinimumReminderPeriod"] = "00:00:01",
        ["Orleans__Membership__ProbeTimeout"] = "00:00:01",
        ["Orleans__Membership__NumMissedProbesLimit"] = "2",
        ["Orleans__Membership__NumVotesForDeathDeclaration"] = "1",
        ["Orleans__Membership__IAmAliveTablePublishTimeout"] = "00:00:05",
    };

    private TestDatabase _db = null!;
    private readonly List<SiloProcess> _silos = [];
    private IHost _client = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _silos.Add(SiloProcess.Start(_db.ConnectionString, FastFailover));
        _silos.Add(SiloProcess.Start(_db.ConnectionString, FastFailover));
        await Eventually.Async(async () => await ActiveSilosAsync() == 2, TimeSpan.FromSeconds(90),
            $"both silos should join; output:\n{_silos[0].RecentOutput}\n{_silos[1].RecentOutput}");

        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleansClient(c =>
        {
            c.Configure<ClusterOptions>(o => { o.ClusterId = ClusterSettings.DefaultClusterId; o.ServiceId = ClusterSettings.DefaultServiceId; });
            c.UseAdoNetClustering(o => { o.Invariant = ClusterSettings.Invariant; o.ConnectionString = _db.ConnectionString; });
            // A call caught in flight to the crashed silo fails fast and is retried by the poll.
            c.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(3));
        });
        _client = builder.Build();
        await _client.StartAsync();
    }

    [Fact]
    public async Task After_a_kill_9_the_survivor_serves_the_grains_and_fires_the_reminders()
    {
        var grains = _client.Services.GetRequiredService<IGrainFactory>();
        var organizations = Enumerable.Range(0, 6).Select(_ => Guid.NewGuid()).ToList();
        foreach (var id in organizations)
        {
            await grains.GetGrain<IOrganizationGrain>(id).CreateAsync($"Org {id:N}", "business");
        }
        var probes = Enumerable.Range(0, 8).Select(i => grains.GetGrain<IReminderProbeGrain>($"crash-probe-{i}")).ToList();
        foreach (var probe in probes)
        {
            await probe.StartAsync(TimeSpan.FromSeconds(1));
        }
        await Eventually.Async(async () => (await Task.WhenAll(probes.Select(p => p.GetReportAsync().AsTask()))).All(r => r.Ticks >= 2),
            TimeSpan.FromSeconds(60), "every probe ticks before the crash");

        // Crash the silo that delivered the most ticks, so that reminders certainly have to move.
        var reports = await Task.WhenAll(probes.Select(p => p.GetReportAsync().AsTask()));
        var victim = _silos.OrderByDescending(s => reports.Count(r => r.Recent[^1].Silo.Contains($":{s.SiloPort}:", StringComparison.Ordinal))).First();
        var survivor = _silos.Single(s => s != victim);
        var movedProbes = reports.Count(r => r.Recent[^1].Silo.Contains($":{victim.SiloPort}:", StringComparison.Ordinal));
        movedProbes.Should().BeGreaterThan(0);
        victim.Crash();
        var killedAt = DateTimeOffset.UtcNow;

        await Eventually.Async(async () =>
        {
            var now = await Task.WhenAll(probes.Select(p => p.GetReportAsync().AsTask()));
            return now.All(r => r.Recent.Any(t => t.At > killedAt.AddSeconds(1) && t.Silo.Contains($":{survivor.SiloPort}:", StringComparison.Ordinal)));
        }, TimeSpan.FromSeconds(60), "every reminder fires on the survivor after the crash", tolerateErrors: true);
        output.WriteLine($"{movedProbes} of {probes.Count} reminders moved; all fire on the survivor {(DateTimeOffset.UtcNow - killedAt).TotalSeconds:F1} s after SIGKILL");

        foreach (var id in organizations)
        {
            var name = "";
            await Eventually.Async(async () => (name = (await grains.GetGrain<IOrganizationGrain>(id).GetAsync()).Name) != "",
                TimeSpan.FromSeconds(30), tolerateErrors: true);
            name.Should().Be($"Org {id:N}", "state written before the crash is served by the survivor");
        }
        await Eventually.Async(async () => await DeadSiloPortsAsync() is var dead && dead.Contains(victim.SiloPort),
            TimeSpan.FromSeconds(30), "the survivor declares the crashed silo dead in the membership table");
        survivor.HasExited.Should().BeFalse(survivor.RecentOutput);
        foreach (var probe in probes)
        {
            await probe.StopAsync();
        }
    }

    private async Task<int> ActiveSilosAsync()
    {
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<int>("SELECT count(*)::int FROM orleansmembershiptable WHERE status = 3");
    }

    private async Task<IReadOnlyList<int>> DeadSiloPortsAsync()
    {
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<int>("SELECT port FROM orleansmembershiptable WHERE status = 6")).ToList();
    }

    public async Task DisposeAsync()
    {
        await _client.StopAsync();
        _client.Dispose();
        foreach (var silo in _silos)
        {
            silo.Dispose();
        }
        await _db.DisposeAsync();
    }
}
