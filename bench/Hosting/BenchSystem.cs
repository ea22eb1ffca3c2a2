using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using ObjectaLabs.Orleans.Api.Hosting;
using ObjectaLabs.Orleans.Bench.Jobs;
using ObjectaLabs.Orleans.Bench.Postgres;
using ObjectaLabs.Orleans.Silo.Hosting;
using ObjectaLabs.Orleans.Testing;

namespace ObjectaLabs.Orleans.Bench.Hosting;

/// <summary>
/// A silo and an API in this process on a private PostgreSQL, as <c>./run</c> starts them, for the benchmarks that go
/// through HTTP. <paramref name="mapBaseline"/> adds the benchmark's bare endpoint to the same API process before it starts.
/// </summary>
public sealed class BenchSystem : IAsyncDisposable
{
    private bool _siloStopped;

    private BenchSystem(PrivatePostgres postgres, IHost silo, WebApplication api, string platformKey)
    {
        Postgres = postgres;
        Silo = silo;
        Api = api;
        PlatformKey = platformKey;
    }

    public PrivatePostgres Postgres { get; }
    public IHost Silo { get; }
    public WebApplication Api { get; }
    public string PlatformKey { get; }
    public Uri Root => new(Api.Urls.First());

    public static async Task<BenchSystem> StartAsync(Action<WebApplication> mapBaseline)
    {
        var pg = await PrivatePostgres.StartAsync();
        var silo = SiloHostBuilder.Build([], b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = pg.ConnectionString,
            ["Orleans:SiloPort"] = LocalPostgres.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Orleans:GatewayPort"] = LocalPostgres.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Orleans:ApplyMigrations"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
            ["DataProtection:CertificatePath"] = BenchCertificate.Path,
        }));
        await silo.StartAsync();
        var platformKey = "olp_bench_" + Guid.NewGuid().ToString("N");
        var api = ApiApplication.Build([], b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = pg.ConnectionString,
            ["Platform:AdminKey"] = platformKey,
            ["Urls"] = "http://127.0.0.1:0",
            ["Logging:LogLevel:Default"] = "Warning",
            // One key drives each load run: its buckets (runtime 5,000 requests/s, selection 20,000/s by default) would cap
            // what is measured; usage at 100 events a batch passes 5,000 batches/s on this machine.
            ["RateLimits:Runtime:PermitsPerSecond"] = "1000000",
            ["RateLimits:Runtime:Burst"] = "2000000",
            ["RateLimits:Selection:PermitsPerSecond"] = "1000000",
            ["RateLimits:Selection:Burst"] = "2000000",
        }));
        mapBaseline(api);
        await api.StartAsync();
        return new BenchSystem(pg, silo, api, platformKey);
    }

    /// <summary>A new Enterprise organization and a client with its admin key.</summary>
    public async Task<(Guid Org, HttpClient Admin)> NewOrganizationAsync()
    {
        using var platform = BenchHttp.Client(Root, PlatformKey);
        var created = await BenchHttp.Json(await platform.PostAsJsonAsync("/v1/organizations", new { name = "Bench Ltd", plan = "enterprise" }));
        return (created.GetProperty("organization").GetProperty("id").GetGuid(), BenchHttp.Client(Root, created.GetProperty("adminKey").GetProperty("key").GetString()!));
    }

    /// <summary>Stops the silo gracefully (once).</summary>
    public async Task StopSiloAsync()
    {
        if (!_siloStopped)
        {
            _siloStopped = true;
            await Silo.StopAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Api.StopAsync();
        await Api.DisposeAsync();
        await StopSiloAsync();
        Silo.Dispose();
        await Postgres.DisposeAsync();
    }
}

/// <summary>What the HTTP benchmarks share: a client with a key, a checked JSON answer, a median.</summary>
public static class BenchHttp
{
    public static HttpClient Client(Uri root, string key)
    {
        var client = new HttpClient { BaseAddress = root };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public static async Task<JsonElement> Json(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{(int)response.StatusCode} from {response.RequestMessage?.RequestUri}: {text}");
        }
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
