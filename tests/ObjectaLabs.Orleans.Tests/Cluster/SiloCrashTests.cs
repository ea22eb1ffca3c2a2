using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ObjectaLabs.Orleans.Diagnostics;
using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Hosting;
using ObjectaLabs.Orleans.Models;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.ProviderEmulators;
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
        ["Providers__Sandbox__SlowFactor"] = "6",
    };

    private const string OpenAiModel = "openai/gpt-4o-mini-2024-07-18";

    private TestDatabase _db = null!;
    private ProviderEmulatorHost _emulators = null!;
    private Dictionary<string, string> _settings = null!;
    private readonly List<SiloProcess> _silos = [];
    private IHost _client = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        // The platform's OpenAI account points at the emulator (real HTTP), whose jobs train in 6 steps of 40 ms.
        _emulators = await ProviderEmulatorHost.StartAsync(new EmulatorOptions { Tick = TimeSpan.FromMilliseconds(40), TotalSteps = 6 });
        _settings = new Dictionary<string, string>(FastFailover)
        {
            ["Providers__OpenAI__ApiKey"] = "sk-platform-crash-0123456789",
            ["Providers__OpenAI__BaseUrl"] = _emulators.OpenAiBaseUrl.ToString(),
            ["Providers__OpenAI__Timeout"] = "00:00:02",
            ["TrainingJobs__MaxBackoff"] = "00:00:02",
        };
        _silos.Add(SiloProcess.Start(_db.ConnectionString, _settings));
        _silos.Add(SiloProcess.Start(_db.ConnectionString, _settings));
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
        var references = await HundredJobsThroughAKillAsync("sandbox/sandbox-small");

        await using var connection = await _db.DataSource.OpenConnectionAsync();
        var submissions = (await connection.QueryAsync<(string Reference, int Count)>(
            "SELECT reference, count(*)::int FROM sandbox_jobs WHERE reference = ANY(@references) GROUP BY reference", new { references })).ToList();
        submissions.Should().HaveCount(references.Count).And.OnlyContain(s => s.Count == 1, "each job reached the provider exactly once");
    }

    [Fact]
    public async Task With_30_percent_of_provider_calls_failing_transiently_and_a_kill_9_no_job_fails_and_each_is_submitted_once()
    {
        // About 30 % of calls to the OpenAI emulator fail, of every transient kind: 429 with Retry-After, 500, 503,
        // a malformed body, and an answer slower than the silo's 2 s timeout.
        var faults = _emulators.OpenAi.Faults;
        // Drawn one after another: 1 − 0.9 × 0.9 × 0.94 × 0.95 × 0.97 ≈ 30 % of calls.
        faults.Add(new FaultRule(FaultKinds.RateLimit, Rate: 0.1, RetryAfterSeconds: 1));
        faults.Add(new FaultRule(FaultKinds.ServerError, Rate: 0.1));
        faults.Add(new FaultRule(FaultKinds.ServerError, Rate: 0.06, Status: 503));
        faults.Add(new FaultRule(FaultKinds.Malformed, Rate: 0.05));
        faults.Add(new FaultRule(FaultKinds.Slow, Rate: 0.03, DelayMilliseconds: 3000));

        var references = await HundredJobsThroughAKillAsync(OpenAiModel);

        string[] kinds = [FaultKinds.RateLimit, FaultKinds.ServerError, FaultKinds.Malformed, FaultKinds.Slow];
        foreach (var kind in kinds)
        {
            faults.Injected(kind).Should().BeGreaterThan(0, $"the run met {kind} faults");
        }
        var submitted = _emulators.OpenAi.Jobs.Select(j => j.Metadata?.Values.FirstOrDefault(references.Contains)).Where(r => r is not null).GroupBy(r => r).ToList();
        submitted.Should().HaveCount(references.Count).And.OnlyContain(g => g.Count() == 1, "each job reached the provider exactly once");
        output.WriteLine($"faults injected: {string.Join(", ", kinds.Select(k => $"{k} {faults.Injected(k)}"))} of {_emulators.OpenAi.Requests.All.Count} requests");
    }

    /// <summary>
    /// Creates 100 jobs on <paramref name="baseModel"/>, kills one silo with SIGKILL after the first 50, and waits until every
    /// job has succeeded with its own model; returns the jobs' provider references.
    /// </summary>
    private async Task<IReadOnlyList<string>> HundredJobsThroughAKillAsync(string baseModel)
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
            await desk.CreateAsync(jobs[i], new NewTrainingJob($"Line {i}", baseModel, null, null, 0.1, 42, new JobHyperparameters(null, null, null, null), "crash-test"));
            return true;
        }, TimeSpan.FromSeconds(60), $"job {i} is accepted", tolerateErrors: true);

        for (var i = 0; i < jobCount / 2; i++)
        {
            await CreateAsync(i);
        }
        var victim = _silos[0];
        victim.Crash();
        var killedAt = DateTimeOffset.UtcNow;
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
        }, TimeSpan.FromSeconds(240), "every job finishes after the crash", tolerateErrors: true);

        finished.Where(j => j.Status != TrainingJobStatus.Succeeded).Select(j => $"{j.Id} {j.Status.Name()} {j.Error?.Message}")
            .Should().BeEmpty("a crashed silo or a transient fault fails no job");
        finished.Select(j => j.ModelId).Distinct().Should().HaveCount(jobCount, "each job yields one model");
        (await grains.GetGrain<IModelRegistryGrain>(org).ListModelIdsAsync()).Should().HaveCount(jobCount);
        output.WriteLine($"{jobCount} jobs on {baseModel} finished {(DateTimeOffset.UtcNow - killedAt).TotalSeconds:F1} s after the silo on port {victim.SiloPort} was killed (after {jobCount / 2} creates)");
        return jobs.Select(j => j.ToString("N")).ToList();
    }

    [Fact]
    public async Task When_every_silo_dies_a_restarted_silo_resumes_the_jobs_from_the_reminder_table()
    {
        const int jobCount = 20;
        var grains = _client.Services.GetRequiredService<IGrainFactory>();
        var org = Guid.NewGuid();
        await grains.GetGrain<IOrganizationGrain>(org).CreateAsync("Restart Jobs Ltd", "enterprise");
        var examples = grains.GetGrain<ITrainingExamplesGrain>(org);
        var ids = new List<Guid>();
        for (var i = 0; i < 10; i++)
        {
            ids.Add((await examples.CreateAsync(new NewExample(
                $$"""{"messages":[{"role":"user","content":"Restart {{i}}"},{"role":"assistant","content":"Resumed {{i}}"}]}""", null, [], null))).Id);
        }
        await examples.BulkValidateAsync(ids, "restart-test", 1m);
        var desk = grains.GetGrain<ITrainingJobsGrain>(org);
        var jobs = Enumerable.Range(0, jobCount).Select(_ => Guid.NewGuid()).ToList();
        for (var i = 0; i < jobCount; i++)
        {
            // "simulate-slow" trains SlowFactor (here 6) times slower, about 10 s, so every job is still in flight when the cluster dies.
            // A create is idempotent by its id, so one that outlives this client's short (3 s) response timeout on a busy
            // machine is sent again, as a client would.
            var job = jobs[i];
            await RetryOnTimeoutAsync(() => desk.CreateAsync(job, new NewTrainingJob($"Restart {i}", "sandbox/sandbox-small", null, "simulate-slow", 0, 42,
                new JobHyperparameters(null, null, null, null), "restart-test")));
        }
        await Eventually.Async(async () => (await JobRowsAsync(org)).All(r => r.Status is "queued" or "running"),
            TimeSpan.FromSeconds(60), "every job reaches the provider before the cluster dies");

        var started = DateTimeOffset.UtcNow;
        foreach (var silo in _silos)
        {
            silo.Crash();
        }
        var frozen = await JobRowsAsync(org);
        (await RemindersOfAsync(jobs)).Should().Be(jobCount, "each job in flight keeps its reminder in the table while no silo runs");
        frozen.Should().OnlyContain(r => r.Status != "succeeded" && r.ModelId == null);

        _silos.Add(SiloProcess.Start(_db.ConnectionString, _settings));
        await Eventually.Async(async () => (await JobRowsAsync(org)).All(r => r.Status == "succeeded" && r.ModelId != null),
            TimeSpan.FromSeconds(120), $"the restarted silo finishes every job; output:\n{_silos[^1].RecentOutput}");
        output.WriteLine($"{jobCount} jobs finished {(DateTimeOffset.UtcNow - started).TotalSeconds:F1} s after every silo was killed");

        // The row shows the model first; the reminder goes a moment later, at the end of the same tick.
        await Eventually.Async(async () => await RemindersOfAsync(jobs) == 0, TimeSpan.FromSeconds(10), "a finished job removes its reminder");
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        (await connection.QueryAsync<(string Reference, int Count)>("SELECT reference, count(*)::int FROM sandbox_jobs WHERE reference = ANY(@References) GROUP BY reference",
            new { References = jobs.Select(j => j.ToString("N")).ToArray() })).Should().HaveCount(jobCount).And.OnlyContain(s => s.Count == 1, "a restart submits nothing again");
        (await connection.ExecuteScalarAsync<int>("SELECT count(*)::int FROM fine_tuned_models WHERE organization_id = @org", new { org })).Should().Be(jobCount);
    }

    private async Task<IReadOnlyList<(string Status, Guid? ModelId)>> JobRowsAsync(Guid org)
    {
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<(string, Guid?)>("SELECT status, model_id FROM fine_tuning_jobs WHERE organization_id = @org", new { org })).ToList();
    }

    private async Task<int> RemindersOfAsync(IReadOnlyList<Guid> jobs)
    {
        // Orleans keys a Guid grain by its Guid in "N" form; count the rows of our reminder name for these jobs.
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        var keys = (await connection.QueryAsync<string>("SELECT grainid FROM orleansreminderstable WHERE remindername = @name",
            new { name = ObjectaLabs.Orleans.Training.Jobs.TrainingJobGrain.ReminderName })).ToList();
        return jobs.Count(j => keys.Any(k => k.Contains(j.ToString("N"), StringComparison.OrdinalIgnoreCase)));
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
        await _emulators.DisposeAsync();
        await _db.DisposeAsync();
    }

    private static async Task RetryOnTimeoutAsync(Func<Task> call)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await call();
                return;
            }
            catch (TimeoutException) when (attempt < 3)
            {
            }
        }
    }
}
