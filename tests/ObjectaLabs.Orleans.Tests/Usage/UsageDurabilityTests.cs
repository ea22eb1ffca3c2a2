using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ObjectaLabs.Orleans.Deployment;
using ObjectaLabs.Orleans.Hosting;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Tests.Infrastructure;
using ObjectaLabs.Orleans.Usage;
using Orleans.Configuration;
using Orleans.Hosting;
using Xunit.Abstractions;

namespace ObjectaLabs.Orleans.Tests.Usage;

/// <summary>
/// Usage through a silo process that is stopped gracefully (nothing may be lost) or killed with SIGKILL (at most the usage
/// of one forward and one flush interval may be lost, never counted twice).
/// </summary>
public sealed class UsageDurabilityTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Mini = "openai/gpt-4o-mini-2024-07-18";
    private static readonly TimeSpan Forward = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan Flush = TimeSpan.FromSeconds(1);

    private readonly Dictionary<string, string> _settings = new()
    {
        ["Usage__ForwardInterval"] = Forward.ToString(),
        ["Usage__FlushInterval"] = Flush.ToString(),
    };

    private TestDatabase _db = null!;
    private readonly List<SiloProcess> _silos = [];
    private readonly List<IHost> _clients = [];

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        await StartSiloAsync();
    }

    private async Task<SiloProcess> StartSiloAsync()
    {
        var silo = SiloProcess.Start(_db.ConnectionString, _settings);
        _silos.Add(silo);
        await Eventually.Async(async () => await ActiveSilosAsync() == 1, TimeSpan.FromSeconds(90), $"the silo should join; output:\n{silo.RecentOutput}");
        return silo;
    }

    /// <summary>A new Orleans client (a restarted silo listens on another gateway port).</summary>
    private async Task<IGrainFactory> ClientAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleansClient(c =>
        {
            c.Configure<ClusterOptions>(o => { o.ClusterId = ClusterSettings.DefaultClusterId; o.ServiceId = ClusterSettings.DefaultServiceId; });
            c.UseAdoNetClustering(o => { o.Invariant = ClusterSettings.Invariant; o.ConnectionString = _db.ConnectionString; });
            c.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(3));
        });
        var client = builder.Build();
        await client.StartAsync();
        _clients.Add(client);
        return client.Services.GetRequiredService<IGrainFactory>();
    }

    private static UsageBatch Batch(int index, DateTimeOffset at)
    {
        var hour = UsageKey.HourOf(at);
        // 100 events of two keys: 70 plain requests (60 successes) and 30 of an experiment's candidate arm.
        return new UsageBatch(Guid.NewGuid(), 100,
        [
            new UsageEntry(new UsageKey(ModelChoice.Base(Mini), null, UsageArm.None, false, hour), 0, 70, 60, 70_000, 35_000, 10, 40, 170,
                [.. Enumerable.Range(0, 70).Select(i => 1_000L * (i + 1))]),
            new UsageEntry(new UsageKey(ModelChoice.Base(Mini), ExperimentId, UsageArm.Candidate, false, hour), 70, 30, 30, 3_000, 3_000, 0, 0, 0,
                [.. Enumerable.Range(0, 30).Select(_ => 5_000L + index)]),
        ]);
    }

    private static readonly Guid ExperimentId = Guid.NewGuid();

    [Fact]
    public async Task A_graceful_stop_loses_nothing_and_a_batch_retried_after_the_restart_is_counted_once()
    {
        var grains = await ClientAsync();
        var org = Guid.NewGuid();
        await grains.GetGrain<IOrganizationGrain>(org).CreateAsync("Usage graceful", "business");
        var ingest = grains.GetGrain<IUsageBatchesGrain>(org);
        var batches = Enumerable.Range(0, 200).Select(i => Batch(i, DateTimeOffset.UtcNow)).ToList();
        foreach (var chunk in batches.Chunk(20))
        {
            var outcomes = await ingest.RecordAsync(chunk);
            outcomes.Should().OnlyContain(o => o.Receipt != null && !o.Receipt.Duplicate);
        }

        // Stop at once, well within a flush interval of the last batch: only the shutdown's own forward and flush can save it.
        _silos[0].Terminate();
        _silos[0].WaitForExit(TimeSpan.FromSeconds(60)).Should().BeTrue(_silos[0].RecentOutput);
        var afterStop = await TotalsAsync(org);
        await StartSiloAsync();
        var retry = (await (await ClientAsync()).GetGrain<IUsageBatchesGrain>(org).RecordAsync([batches[17]]))[0].Receipt!;
        await Task.Delay(Forward + Flush + Flush);
        var afterRetry = await TotalsAsync(org);

        afterStop.Should().Be((20_000L, 18_000L, 14_600_000L, 7_600_000L, 2_000L), "every event sent before the stop is counted, none twice");
        retry.Duplicate.Should().BeTrue("batch ids are written on the way down and read back after the restart");
        afterRetry.Should().Be(afterStop);
    }

    [Fact]
    public async Task A_kill_9_loses_at_most_the_last_forward_and_flush_interval_and_counts_nothing_twice()
    {
        var grains = await ClientAsync();
        var org = Guid.NewGuid();
        await grains.GetGrain<IOrganizationGrain>(org).CreateAsync("Usage crash", "business");
        var ingest = grains.GetGrain<IUsageBatchesGrain>(org);
        var acknowledged = new List<DateTimeOffset>(); // when each batch of 100 was acknowledged
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(4))
        {
            await ingest.RecordAsync([Batch(acknowledged.Count, DateTimeOffset.UtcNow)]);
            acknowledged.Add(DateTimeOffset.UtcNow);
        }

        _silos[0].Crash();
        var killedAt = DateTimeOffset.UtcNow;
        var counted = (await TotalsAsync(org)).Requests;
        var sent = acknowledged.Count * 100L;
        // What may be lost: the batches acknowledged in the last forward + flush interval (and a little for the timers' jitter).
        var window = Forward + Flush + TimeSpan.FromMilliseconds(300);
        var atRisk = acknowledged.Count(t => t > killedAt - window) * 100L;
        output.WriteLine($"sent {sent} events in {acknowledged.Count} batches; counted {counted}; lost {sent - counted}; at risk (last {window.TotalSeconds:F1} s) {atRisk}");

        counted.Should().BeLessThanOrEqualTo(sent, "nothing is counted twice");
        (sent - counted).Should().BeLessThanOrEqualTo(atRisk, "only the last forward and flush interval can be lost");
        counted.Should().BeGreaterThan(0);
    }

    private async Task<(long Requests, long Successes, long InputTokens, long OutputTokens, long Ratings)> TotalsAsync(Guid org)
    {
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        return await connection.QuerySingleAsync<(long, long, long, long, long)>("""
            SELECT coalesce(sum(requests), 0)::bigint, coalesce(sum(successes), 0)::bigint, coalesce(sum(input_tokens), 0)::bigint,
                   coalesce(sum(output_tokens), 0)::bigint, coalesce(sum(satisfaction_count), 0)::bigint
            FROM model_usage_rollups WHERE organization_id = @org
            """, new { org });
    }

    private async Task<int> ActiveSilosAsync()
    {
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<int>("SELECT count(*)::int FROM orleansmembershiptable WHERE status = 3");
    }

    public async Task DisposeAsync()
    {
        foreach (var client in _clients)
        {
            try
            {
                await client.StopAsync();
            }
            catch (OperationCanceledException)
            {
                // the silo it spoke to is gone
            }
            client.Dispose();
        }
        foreach (var silo in _silos)
        {
            silo.Dispose();
        }
        await _db.DisposeAsync();
    }
}
