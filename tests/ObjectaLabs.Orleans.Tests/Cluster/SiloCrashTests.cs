using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ObjectaLabs.Orleans.Diagnostics;
using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Hosting;
using ObjectaLabs.Orleans.Models;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Tests.Infrastructure;
using ObjectaLabs.Orleans.Training;
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
        // Sandbox jobs train in about two seconds and are followed twice a second, their reminders every second.
        ["TrainingJobs__PollInterval"] = "00:00:01",
        ["TrainingJobs__SandboxPollInterval"] = "00:00:00.500",
        ["Providers__Sandbox__ValidatingDuration"] = "00:00:00.200",
        ["Providers__Sandbox__QueuedDuration"] = "00:00:00.200",
        ["Providers__Sandbox__StepDuration"] = "00:00:00.050",
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

    [Fact]
    public async Task Jobs_in_flight_when_a_silo_is_killed_all_finish_each_submitted_once_with_one_model()
    {
        const int jobCount = 100;
        var grains = _client.Services.GetRequiredService<IGrainFactory>();
        var org = Guid.NewGuid();
        await grains.GetGrain<IOrganizationGrain>(org).CreateAsync("Crash Jobs Ltd", "enterprise");
        var examples = grains.GetGrain<ITrainingExamplesGrain>(org);
        var ids = new List<Guid>();
        for (var i = 0; i < 12; i++)
        {
            ids.Add((await examples.CreateAsync(new NewExample(
                $$"""{"messages":[{"role":"user","content":"Question {{i}}"},{"role":"assistant","content":"Answer {{i}}"}]}""", null, [], null))).Id);
        }
        await examples.BulkValidateAsync(ids, "crash-test", 1m);
        var jobs = Enumerable.Range(0, jobCount).Select(_ => Guid.NewGuid()).ToList();
        var desk = grains.GetGrain<ITrainingJobsGrain>(org);
        async Task CreateAsync(int i) => await Eventually.Async(async () =>
        {
            // A create caught by the crash is sent again with the same id: the same job, never a second one.
            await desk.CreateAsync(jobs[i], new NewTrainingJob($"Line {i}", "sandbox/sandbox-small", null, null, 0.1, 42, new JobHyperparameters(null, null, null, null), "crash-test"));
            return true;
        }, TimeSpan.FromSeconds(60), $"job {i} is accepted", tolerateErrors: true);

        for (var i = 0; i < jobCount / 2; i++)
        {
            await CreateAsync(i);
        }
        var victim = _silos[0];
        victim.Crash();
        for (var i = jobCount / 2; i < jobCount; i++)
        {
            await CreateAsync(i);
        }

        var finished = new TrainingJobInfo[jobCount];
        await Eventually.Async(async () =>
        {
            for (var i = 0; i < jobCount; i++)
            {
                if (finished[i] is null || !finished[i].Status.IsFinal() || finished[i].ModelId is null)
                {
                    finished[i] = await grains.GetGrain<ITrainingJobGrain>(jobs[i]).GetAsync(org);
                }
            }
            return finished.All(j => j.Status.IsFinal() && (j.Status != TrainingJobStatus.Succeeded || j.ModelId is not null));
        }, TimeSpan.FromSeconds(180), "every job finishes after the crash", tolerateErrors: true);

        finished.Should().OnlyContain(j => j.Status == TrainingJobStatus.Succeeded, "a crashed silo fails no job");
        finished.Select(j => j.ModelId).Distinct().Should().HaveCount(jobCount, "each job yields one model");
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        var submissions = (await connection.QueryAsync<(string Reference, int Count)>(
            "SELECT reference, count(*)::int FROM sandbox_jobs GROUP BY reference")).ToList();
        submissions.Should().HaveCount(jobCount).And.OnlyContain(s => s.Count == 1, "each job reached the provider exactly once");
        (await grains.GetGrain<IModelRegistryGrain>(org).ListModelIdsAsync()).Should().HaveCount(jobCount);
        output.WriteLine($"{jobCount} jobs finished; silo on port {victim.SiloPort} was killed after {jobCount / 2} creates");
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
