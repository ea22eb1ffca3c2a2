using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using ObjectaLabs.Orleans.Api.Hosting;
using ObjectaLabs.Orleans.Hosting;
using ObjectaLabs.Orleans.Silo.Database;
using ObjectaLabs.Orleans.Silo.Hosting;
using ObjectaLabs.Orleans.Testing;
using ObjectaLabs.Orleans.Tests.Infrastructure;

namespace ObjectaLabs.Orleans.Tests.Api;

/// <summary>
/// PostgreSQL stopped under a running silo and API: every route family answers 503 problem details with
/// Retry-After (or, where the answer is in memory, the answer), never 500, and all recover by themselves.
/// Runs on a PostgreSQL server of its own, since it stops it.
/// </summary>
public sealed class DatabaseOutageTests : IAsyncLifetime
{
    private const string BaseModel = "openai/gpt-4o-mini-2024-07-18";
    private readonly string _platformKey = "olp_outage_" + Guid.NewGuid().ToString("N");
    private LocalPostgres _postgres = null!;
    private IHost _silo = null!;
    private WebApplication _api = null!;
    private Uri _baseAddress = null!;

    public async Task InitializeAsync()
    {
        _postgres = LocalPostgres.Start("outage");
        await using (var source = NpgsqlDataSource.Create(_postgres.ConnectionString))
        {
            await new MigrationRunner(source, NullLogger<MigrationRunner>.Instance).ApplyAsync();
        }
        _silo = SiloHostBuilder.Build([], b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{ClusterSettings.ConnectionStringName}"] = _postgres.ConnectionString,
            ["Orleans:SiloPort"] = PostgresServer.FreePort().ToString(),
            ["Orleans:GatewayPort"] = PostgresServer.FreePort().ToString(),
            ["Orleans:ApplyMigrations"] = "false",
            ["Logging:LogLevel:Default"] = "None",
        }).AddInMemoryCollection(KeyRingCertificate.Shared.Settings));
        await _silo.StartAsync();
        _api = ApiApplication.Build([], b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{ClusterSettings.ConnectionStringName}"] = _postgres.ConnectionString,
            ["Platform:AdminKey"] = _platformKey,
            ["Urls"] = "http://127.0.0.1:0",
            ["Logging:LogLevel:Default"] = "None",
        }));
        await _api.StartAsync();
        _baseAddress = new Uri(_api.Urls.First());
    }

    [Fact]
    public async Task With_the_database_down_every_route_family_answers_503_with_Retry_After_and_recovers_by_itself()
    {
        using var platform = Client(_platformKey);
        var created = await (await platform.PostAsJsonAsync("/v1/organizations", new { name = "Outage Ltd", plan = "business" })).ReadJsonAsync(HttpStatusCode.Created);
        var org = created.GetProperty("organization").GetProperty("id").GetGuid();
        using var admin = Client(created.GetProperty("adminKey").GetProperty("key").GetString()!);
        var agent = (await (await admin.PostAsJsonAsync($"/v1/organizations/{org}/agents", new { name = "Bot" })).ReadJsonAsync(HttpStatusCode.Created))
            .GetProperty("id").GetGuid();
        (await admin.GetAsync($"/v1/organizations/{org}/examples")).StatusCode.Should().Be(HttpStatusCode.OK);

        var families = new (string Name, Func<Task<HttpResponseMessage>> Call)[]
        {
            ("create organization", () => platform.PostAsJsonAsync("/v1/organizations", new { name = "During", plan = "business" })),
            ("list organizations", () => platform.GetAsync("/v1/organizations")),
            ("add agent", () => admin.PostAsJsonAsync($"/v1/organizations/{org}/agents", new { name = "Second" })),
            ("list examples", () => admin.GetAsync($"/v1/organizations/{org}/examples")),
            ("create example", () => admin.PostAsJsonAsync($"/v1/organizations/{org}/examples", new { example = Chat("q", "a") })),
            ("upload", () => admin.PostAsync($"/v1/organizations/{org}/examples/uploads?baseModel={BaseModel}",
                new StringContent(System.Text.Json.JsonSerializer.Serialize(Chat("q", "a")) + "\n", Encoding.UTF8, "application/jsonl"))),
            ("quality report", () => admin.GetAsync($"/v1/organizations/{org}/examples/quality?baseModel={BaseModel}")),
            ("export", () => admin.GetAsync($"/v1/organizations/{org}/examples/export")),
            ("record conversation", () => admin.PostAsJsonAsync($"/v1/organizations/{org}/conversations", new
            {
                agentId = agent, endedAt = DateTimeOffset.UtcNow, messages = new[] { new { role = "user", content = "hi" } },
            })),
            ("import conversations", () => admin.PostAsJsonAsync($"/v1/organizations/{org}/conversations/imports", new { })),
        };

        _postgres.Stop();
        var during = new List<string>();
        try
        {
            foreach (var (name, call) in families)
            {
                using var response = await call();
                var body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
                {
                    during.Add($"{name}: {(int)response.StatusCode} {body}");
                    continue;
                }
                if (response.Headers.RetryAfter?.Delta is not { TotalSeconds: >= 1 } || response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                {
                    during.Add($"{name}: 503 without Retry-After or problem details");
                }
            }
        }
        finally
        {
            _postgres.Restart();
        }

        during.Should().BeEmpty("every route that needs the database says 503 and when to retry");
        foreach (var (name, call) in families.Where(f => f.Name is "list examples" or "create organization" or "add agent" or "record conversation"))
        {
            await Eventually.Async(async () =>
            {
                using var response = await call();
                return response.IsSuccessStatusCode;
            }, TimeSpan.FromSeconds(30), $"{name} recovers once the database is back");
        }

        // And the cluster gone: the silo stops, the API stays.
        await _silo.StopAsync();
        using var noCluster = await admin.GetAsync($"/v1/organizations/{org}/examples");
        noCluster.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, await noCluster.Content.ReadAsStringAsync());
        noCluster.Headers.RetryAfter!.Delta!.Value.TotalSeconds.Should().BeGreaterThanOrEqualTo(1);
    }

    private HttpClient Client(string key)
    {
        var client = new HttpClient { BaseAddress = _baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        return client;
    }

    private static object Chat(string user, string assistant) =>
        new { messages = new[] { new { role = "user", content = user }, new { role = "assistant", content = assistant } } };

    public async Task DisposeAsync()
    {
        await _api.StopAsync();
        await _api.DisposeAsync();
        await _silo.StopAsync();
        _silo.Dispose();
        _postgres.Dispose();
    }
}
