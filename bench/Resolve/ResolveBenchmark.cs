using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using ObjectaLabs.Orleans.Api.Hosting;
using ObjectaLabs.Orleans.Bench.Hosting;
using ObjectaLabs.Orleans.Bench.Postgres;
using ObjectaLabs.Orleans.Silo.Hosting;
using ObjectaLabs.Orleans.Testing;

namespace ObjectaLabs.Orleans.Bench.Resolve;

/// <summary>
/// Resolution with a runtime key through the running API (silo, PostgreSQL and API in this process) against a bare
/// endpoint in the same API process that returns a constant JSON with no authentication and no rate limit, both under
/// <c>wrk -t2 -c64</c> in the same run: ours = resolutions per second, baseline = bare answers per second. Also prints
/// both p99s under that load, and both p99s at a fixed rate (<c>hey</c>, 10,000 req/s; the goal is resolution's p99
/// at most 1.5 × the bare endpoint's). The load generators run on the same machine, so all figures share its cores.
/// </summary>
public static class ResolveBenchmark
{
    private const string BarePath = "/bench/constant";

    public static async Task<BenchResult> RunAsync(TimeSpan duration, int fixedRate, int rounds)
    {
        // The baseline: same process, same Kestrel and middleware, but no key, no rate limit, no lookup.
        await using var system = await BenchSystem.StartAsync(api =>
            api.MapGet(BarePath, () => Results.Text("""{"provider":"sandbox","providerModel":"sandbox-small"}""", "application/json")).DisableRateLimiting());
        var root = system.Root;
        var (resolvePath, runtimeKey) = await SetUpAsync(system);
        // The load generator shares the cores with the API, the silo and PostgreSQL: rounds alternate the two endpoints
        // and the medians are reported, so one noisy round does not decide the ratio.
        Console.WriteLine($"{rounds} rounds of wrk -t2 -c64 -d{duration.TotalSeconds:F0}s, bare endpoint and resolution (runtime key, snapshot in memory) in turn…");
        // Warm-up, not counted: the first seconds of each endpoint pay for JIT tiering and pools filling.
        var warmUp = TimeSpan.FromSeconds(Math.Min(5, duration.TotalSeconds));
        await BenchLoad.WrkAsync(new Uri(root, BarePath), null, warmUp);
        await BenchLoad.WrkAsync(new Uri(root, resolvePath), runtimeKey, warmUp);
        var bareRuns = new List<(double PerSecond, double P99Ms)>();
        var ourRuns = new List<(double PerSecond, double P99Ms)>();
        for (var round = 0; round < rounds; round++)
        {
            bareRuns.Add(await BenchLoad.WrkAsync(new Uri(root, BarePath), null, duration));
            ourRuns.Add(await BenchLoad.WrkAsync(new Uri(root, resolvePath), runtimeKey, duration));
            Console.WriteLine($"  round {round + 1}: bare {bareRuns[^1].PerSecond:F0}/s p99 {bareRuns[^1].P99Ms:F2} ms; resolution {ourRuns[^1].PerSecond:F0}/s p99 {ourRuns[^1].P99Ms:F2} ms");
        }
        var bare = (PerSecond: BenchHttp.Median(bareRuns.Select(r => r.PerSecond)), P99Ms: BenchHttp.Median(bareRuns.Select(r => r.P99Ms)));
        var ours = (PerSecond: BenchHttp.Median(ourRuns.Select(r => r.PerSecond)), P99Ms: BenchHttp.Median(ourRuns.Select(r => r.P99Ms)));
        Console.WriteLine($"under wrk -c64 (medians): bare {bare.PerSecond:F0}/s p99 {bare.P99Ms:F2} ms; resolution {ours.PerSecond:F0}/s p99 {ours.P99Ms:F2} ms");
        var bareFixed = new List<(double P99Ms, double PerSecond)>();
        var oursFixed = new List<(double P99Ms, double PerSecond)>();
        for (var round = 0; round < rounds; round++)
        {
            bareFixed.Add(await BenchLoad.HeyAsync(new Uri(root, BarePath), null, duration, fixedRate));
            oursFixed.Add(await BenchLoad.HeyAsync(new Uri(root, resolvePath), runtimeKey, duration, fixedRate));
        }
        var bareP99 = BenchHttp.Median(bareFixed.Select(r => r.P99Ms));
        var oursP99 = BenchHttp.Median(oursFixed.Select(r => r.P99Ms));
        Console.WriteLine($"at a fixed {fixedRate} req/s (hey; achieved: bare {BenchHttp.Median(bareFixed.Select(r => r.PerSecond)):F0}/s, resolution {BenchHttp.Median(oursFixed.Select(r => r.PerSecond)):F0}/s; medians of {rounds}): " +
            $"bare p99 {bareP99:F2} ms, resolution p99 {oursP99:F2} ms = {oursP99 / bareP99:F2} × bare (goal ≤ 1.5)");
        return new BenchResult("resolve", ours.PerSecond, bare.PerSecond, "");
    }

    /// <summary>An Enterprise organization, an agent deployed to the sandbox model in an experiment, and a runtime key.</summary>
    private static async Task<(string Path, string Key)> SetUpAsync(BenchSystem system)
    {
        var root = system.Root;
        var (org, admin) = await system.NewOrganizationAsync();
        using var _ = admin;
        var agent = (await BenchHttp.Json(await admin.PostAsJsonAsync($"/v1/organizations/{org}/agents", new { name = "Bench bot", defaultBaseModel = "sandbox/sandbox-small" })))
            .GetProperty("id").GetGuid();
        await BenchHttp.Json(await admin.PutAsJsonAsync($"/v1/organizations/{org}/agents/{agent}/deployment", new { model = new { baseModel = "sandbox/sandbox-small" } }));
        // An experiment, so each resolution also draws its sticky arm (a SHA-256 per request).
        await BenchHttp.Json(await admin.PostAsJsonAsync($"/v1/organizations/{org}/agents/{agent}/deployment/experiment",
            new { candidate = new { baseModel = "sandbox/sandbox-large" }, candidateShare = 0.5 }));
        var key = (await BenchHttp.Json(await admin.PostAsJsonAsync($"/v1/organizations/{org}/api-keys", new { name = "runtime", scope = "runtime" }))).GetProperty("key").GetString()!;
        var path = $"/v1/organizations/{org}/agents/{agent}/resolve?subject=conversation-42";
        using var runtime = BenchHttp.Client(root, key);
        await BenchHttp.Json(await runtime.GetAsync(path)); // warm: the key is checked once and the snapshot loaded
        return (path, key);
    }
}
