using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ObjectaLabs.Orleans.Api.Hosting;
using ObjectaLabs.Orleans.Api.Usage;
using ObjectaLabs.Orleans.Bench.Hosting;
using ObjectaLabs.Orleans.Bench.Postgres;
using ObjectaLabs.Orleans.Silo.Hosting;
using ObjectaLabs.Orleans.Testing;

namespace ObjectaLabs.Orleans.Bench.Usage;

/// <summary>
/// Usage reported through the running API (silo, PostgreSQL and API in this process) in batches of 100 events with a
/// runtime key, against a bare endpoint in the same API process that parses the same batches (the same request type,
/// the same JSON options) and discards them, both driven by the same client in this process with 64 requests in flight:
/// ours = events counted per second, baseline = events parsed per second. Every batch has its own id (none is a
/// duplicate). The two alternate in many short runs, the order swapped every round, each run after a pause (so no run
/// pays for the previous one's forwarding and writing): on a machine whose speed drifts (a shared VM, the JIT still
/// tiering the silo's code up) both see the same drift. The rates are totals over all rounds (events / seconds). A
/// warm-up of three alternations comes first, uncounted. Afterwards the silo is stopped gracefully and the rollups must
/// hold exactly the events accepted.
/// </summary>
public static class UsageBenchmark
{
    private const string BarePath = "/bench/usage";
    private const int EventsPerBatch = 100;
    private const int InFlight = 64;
    private const int WarmUpRounds = 3;
    private static readonly TimeSpan Pause = TimeSpan.FromSeconds(1);

    public static async Task<BenchResult> RunAsync(TimeSpan duration, int rounds)
    {
        // The baseline: same process, same Kestrel and JSON binding, but no key, no rate limit, no checks, nothing kept.
        await using var system = await BenchSystem.StartAsync(api =>
            api.MapPost(BarePath, (UsageApi.UsageBatchRequest request) => Results.Accepted((string?)null, new { request.BatchId, events = request.Events?.Count ?? 0 }))
                .DisableRateLimiting());
        var root = system.Root;
        var (org, key) = await SetUpAsync(system);
        var template = NewTemplate();
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = InFlight }) { BaseAddress = root };
        var usagePath = $"/v1/organizations/{org}/usage";
        Console.WriteLine($"{WarmUpRounds} warm-up and {rounds} measured rounds of {duration.TotalSeconds:F0} s on each, {InFlight} batches of {EventsPerBatch} events in flight, bare endpoint and usage (runtime key) in alternating order…");
        long accepted = 0;
        double bareEvents = 0, bareSeconds = 0, ourEvents = 0, ourSeconds = 0;
        var ratios = new List<double>();
        for (var round = -WarmUpRounds; round < rounds; round++)
        {
            (long Batches, double Seconds) bare = default, ours = default;
            foreach (var usageFirst in round % 2 == 0 ? new[] { true, false } : [false, true])
            {
                // Each run starts on a quiet silo: the previous run's usage is forwarded and written first.
                await Task.Delay(Pause);
                if (usageFirst)
                {
                    ours = await LoadAsync(client, usagePath, key, template, duration);
                    accepted += ours.Batches;
                }
                else
                {
                    bare = await LoadAsync(client, BarePath, null, template, duration);
                }
            }
            if (round < 0)
            {
                continue;
            }
            bareEvents += bare.Batches * EventsPerBatch;
            bareSeconds += bare.Seconds;
            ourEvents += ours.Batches * EventsPerBatch;
            ourSeconds += ours.Seconds;
            ratios.Add(ours.Batches / ours.Seconds / (bare.Batches / bare.Seconds));
            Console.WriteLine($"  round {round + 1}: bare {bare.Batches * EventsPerBatch / bare.Seconds:F0} events/s; usage {ours.Batches * EventsPerBatch / ours.Seconds:F0} events/s (ratio {ratios[^1]:F2})");
        }
        if (ratios.Count > 2)
        {
            ratios.Sort();
            Console.WriteLine($"round ratios: lowest {ratios[0]:F2}, median {BenchHttp.Median(ratios):F2}, highest {ratios[^1]:F2}");
        }

        var fast = system.Api.Services.GetRequiredService<UsageFastPathCounter>().Taken;
        Console.WriteLine($"{fast:N0} of the {accepted:N0} batches accepted were taken on the fast path");

        // A graceful stop forwards and writes everything: the rollups then hold every accepted event, once.
        await system.StopSiloAsync();
        await using var connection = await system.Postgres.DataSource.OpenConnectionAsync();
        var counted = await connection.ExecuteScalarAsync<long>("SELECT coalesce(sum(requests), 0)::bigint FROM model_usage_rollups WHERE organization_id = @org", new { org });
        var sent = accepted * EventsPerBatch;
        Console.WriteLine($"after a graceful stop the rollups hold {counted:N0} of the {sent:N0} events accepted ({(counted == sent ? "none lost, none doubled" : "MISMATCH")})");
        if (counted != sent)
        {
            throw new InvalidOperationException($"The rollups hold {counted} events, not the {sent} accepted.");
        }
        return new BenchResult("usage", ourEvents / ourSeconds, bareEvents / bareSeconds, "");
    }

    /// <summary>Posts batches (each with a new id) with <see cref="InFlight"/> in flight for <paramref name="duration"/>; every answer must be 202.</summary>
    private static async Task<(long Batches, double Seconds)> LoadAsync(HttpClient client, string path, string? key, BatchTemplate template, TimeSpan duration)
    {
        long batches = 0;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, InFlight).Select(async _ =>
        {
            while (clock.Elapsed < duration)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = template.NewBatch() };
                if (key is not null)
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                }
                using var response = await client.SendAsync(request);
                if (response.StatusCode != HttpStatusCode.Accepted)
                {
                    throw new InvalidOperationException($"{path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                }
                Interlocked.Increment(ref batches);
            }
        });
        await Task.WhenAll(workers);
        return (batches, clock.Elapsed.TotalSeconds);
    }

    private static async Task<(Guid Org, string Key)> SetUpAsync(BenchSystem system)
    {
        var (org, admin) = await system.NewOrganizationAsync();
        using var _ = admin;
        var key = (await BenchHttp.Json(await admin.PostAsJsonAsync($"/v1/organizations/{org}/api-keys", new { name = "runtime", scope = "runtime" }))).GetProperty("key").GetString()!;
        return (org, key);
    }

    /// <summary>
    /// A batch of 100 events as the runtime sends them: two base models, plain traffic and an experiment's arms, a rating on
    /// some; the batch id is written into a copy of the bytes for each request.
    /// </summary>
    private static BatchTemplate NewTemplate()
    {
        var experiment = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        var events = Enumerable.Range(0, EventsPerBatch).Select(i => new Dictionary<string, object?>
        {
            ["baseModel"] = i % 2 == 0 ? "openai/gpt-4o-mini-2024-07-18" : "sandbox/sandbox-small",
            ["experimentId"] = i % 4 == 3 ? experiment : null,
            ["arm"] = i % 4 == 3 ? (i % 8 == 3 ? "control" : "candidate") : null,
            ["inputTokens"] = 200 + i,
            ["outputTokens"] = 50 + i,
            ["latencyMs"] = 120.5 + i * 3,
            ["success"] = i % 10 != 0,
            ["satisfaction"] = i % 5 == 0 ? 1 + i / 5 % 5 : (int?)null,
            ["timestamp"] = now,
        }).ToList();
        var marker = Guid.Empty.ToString();
        var json = JsonSerializer.Serialize(new { batchId = marker, events }, new JsonSerializerOptions(JsonSerializerDefaults.Web));
        var bytes = Encoding.UTF8.GetBytes(json);
        return new BatchTemplate(bytes, json.IndexOf(marker, StringComparison.Ordinal));
    }

    private sealed record BatchTemplate(byte[] Bytes, int IdOffset)
    {
        public ByteArrayContent NewBatch()
        {
            var copy = (byte[])Bytes.Clone();
            Encoding.ASCII.GetBytes(Guid.NewGuid().ToString(), copy.AsSpan(IdOffset, 36));
            var content = new ByteArrayContent(copy);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            return content;
        }
    }
}
