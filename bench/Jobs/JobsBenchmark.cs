using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ObjectaLabs.Orleans.Bench.Postgres;
using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Silo.Hosting;
using ObjectaLabs.Orleans.Testing;
using ObjectaLabs.Orleans.Training;
using ObjectaLabs.Orleans.Training.Jobs;

namespace ObjectaLabs.Orleans.Bench.Jobs;

/// <summary>
/// Many training jobs in flight on one silo, each polling the sandbox every <c>period</c> on its grain timer: ours is
/// the polls delivered per second (counted by the grains' own meter), the baseline the polls due per second
/// (jobs ÷ period). The sandbox keeps every job running for the whole window. Also prints the process's CPU time
/// per 1,000 polls (the silo runs in this process; PostgreSQL's own CPU is not counted).
/// </summary>
public static class JobsBenchmark
{
    private const int Organizations = 10;

    public static async Task<BenchResult> RunAsync(int jobs, TimeSpan period, TimeSpan window)
    {
        await using var pg = await PrivatePostgres.StartAsync();
        var silo = SiloHostBuilder.Build([], b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = pg.ConnectionString,
            ["Orleans:SiloPort"] = LocalPostgres.FreePort().ToString(),
            ["Orleans:GatewayPort"] = LocalPostgres.FreePort().ToString(),
            ["Orleans:ApplyMigrations"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
            ["TrainingJobs:SandboxPollInterval"] = period.ToString("c"),
            // Every job stays running for the whole window: polls are the only work.
            ["Providers:Sandbox:ValidatingDuration"] = "00:00:00",
            ["Providers:Sandbox:QueuedDuration"] = "00:00:00",
            ["Providers:Sandbox:StepDuration"] = "00:10:00",
            ["DataProtection:CertificatePath"] = BenchCertificate.Path,
        }));
        await silo.StartAsync();
        try
        {
            var grains = silo.Services.GetRequiredService<IGrainFactory>();
            Console.WriteLine($"creating {jobs} sandbox jobs in {Organizations} organizations…");
            await Task.WhenAll(Enumerable.Range(0, Organizations).Select(o => CreateJobsAsync(grains, jobs / Organizations + (o < jobs % Organizations ? 1 : 0))));

            long polls = 0;
            using var listener = new MeterListener();
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == TrainingJobMetrics.MeterName && instrument.Name == TrainingJobMetrics.PollsName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref polls, value));
            listener.Start();
            await Task.Delay(period * 2); // every job has been polled on its timer at least once
            var startPolls = Interlocked.Read(ref polls);
            var startCpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            await Task.Delay(window);
            var delivered = Interlocked.Read(ref polls) - startPolls;
            var seconds = clock.Elapsed.TotalSeconds;
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - startCpu;

            var perThousand = delivered > 0 ? cpu.TotalMilliseconds * 1000 / delivered : double.NaN;
            Console.WriteLine($"{delivered} polls in {seconds:F1} s; silo CPU {cpu.TotalMilliseconds:F0} ms = {perThousand:F0} ms per 1,000 polls");
            Console.WriteLine($"at 1-minute polls, 10,000 jobs are {10_000 / 60.0:F0} polls/s: about {perThousand * 10_000 / 60.0 / 1000 / 10:F1} % of one core (PostgreSQL not counted)");
            return new BenchResult("jobs", delivered / seconds, jobs / period.TotalSeconds, "polls");
        }
        finally
        {
            await silo.StopAsync();
            silo.Dispose();
        }
    }

    private static async Task CreateJobsAsync(IGrainFactory grains, int count)
    {
        var org = Guid.NewGuid();
        await grains.GetGrain<IOrganizationGrain>(org).CreateAsync($"Bench {org:N}", "enterprise");
        var examples = grains.GetGrain<ITrainingExamplesGrain>(org);
        var ids = new List<Guid>();
        for (var i = 0; i < 10; i++)
        {
            ids.Add((await examples.CreateAsync(new NewExample(
                $$"""{"messages":[{"role":"user","content":"Question {{i}}"},{"role":"assistant","content":"Answer {{i}}"}]}""", null, [], null))).Id);
        }
        await examples.BulkValidateAsync(ids, "bench", 1m);
        var desk = grains.GetGrain<ITrainingJobsGrain>(org);
        for (var i = 0; i < count; i++)
        {
            await desk.CreateAsync(Guid.NewGuid(), new NewTrainingJob($"Line {i}", "sandbox/sandbox-small", null, null, 0.1, 42, new JobHyperparameters(null, null, null, null), "bench"));
        }
    }
}
