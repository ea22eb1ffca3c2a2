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
/// duplicate). Each run starts after a 3 s pause, so no run pays for the previous one's forwarding and writing. Afterwards
/// the silo is stopped gracefully and the rollups must hold exactly the events accepted.
/// </summary>
public static class UsageBenchmark
{
    private const string BarePath = "/bench/usage";
    private const int EventsPerBatch = 100;
    private const int InFlight = 64;
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(3);

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
        Console.WriteLine($"{rounds} rounds of {duration.TotalSeconds:F0} s, {InFlight} batches of {EventsPerBatch} events in flight, bare endpoint and usage (runtime key) in turn…");
        // Warm-up, not counted (its batches are counted by the silo and checked below like the others).
        var warmUp = TimeSpan.FromSeconds(Math.Min(5, duration.TotalSeconds));
        await LoadAsync(client, BarePath, null, template, warmUp);
        long accepted = (await LoadAsync(client, usagePath, key, template, warmUp)).Batches;
        var bareRuns = new List<double>();
        var ourRuns = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            // Each run starts on a quiet silo: the previous run's usage is forwarded and written (and collected) first.
            await Task.Delay(Settle);
            var bare = await LoadAsync(client, BarePath, null, template, duration);
            await Task.Delay(Settle);
            var ours = await LoadAsync(client, usagePath, key, template, duration);
            accepted += ours.Batches;
            bareRuns.Add(bare.Batches * EventsPerBatch / bare.Seconds);
            ourRuns.Add(ours.Batches * EventsPerBatch / ours.Seconds);
            Console.WriteLine($"  round {round + 1}: bare {bareRuns[^1]:F0} events/s; usage {ourRuns[^1]:F0} events/s");
        }

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
        return new BenchResult("usage", BenchHttp.Median(ourRuns), BenchHttp.Median(bareRuns), "");
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
