using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using ObjectaLabs.Orleans.Api.Hosting;
using ObjectaLabs.Orleans.ProviderEmulators;
using ObjectaLabs.Orleans.Silo.Hosting;
using ObjectaLabs.Orleans.Tests.Infrastructure;

namespace ObjectaLabs.Orleans.Tests.Training;

/// <summary>
/// The whole system with the platform's OpenAI and Together accounts pointed at the provider emulators over real
/// HTTP, jobs moving on the emulators' clock (a tick of 40 ms) and followed every second by their reminders.
/// </summary>
public sealed class ProviderJobsFixture : IAsyncLifetime
{
    private WebApplication _api = null!;

    public TestDatabase Database { get; private set; } = null!;
    public IHost Silo { get; private set; } = null!;
    public ProviderEmulatorHost Emulators { get; private set; } = null!;
    public Uri BaseAddress { get; private set; } = null!;
    public string AdminKey { get; } = "olp_test_" + Guid.NewGuid().ToString("N");

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateAsync();
        Emulators = await ProviderEmulatorHost.StartAsync(new EmulatorOptions { Tick = TimeSpan.FromMilliseconds(40), TotalSteps = 6 });
        Silo = SiloHostBuilder.Build([], b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = Database.ConnectionString,
            ["Orleans:SiloPort"] = PostgresServer.FreePort().ToString(),
            ["Orleans:GatewayPort"] = PostgresServer.FreePort().ToString(),
            ["Orleans:ApplyMigrations"] = "false",
            ["Orleans:MinimumReminderPeriod"] = "00:00:01",
            ["Logging:LogLevel:Default"] = "Warning",
            ["TrainingJobs:PollInterval"] = "00:00:01",
            ["TrainingJobs:MaxBackoff"] = "00:00:02",
            ["Providers:OpenAI:ApiKey"] = "sk-platform-jobs-0123456789",
            ["Providers:OpenAI:BaseUrl"] = Emulators.OpenAiBaseUrl.ToString(),
            ["Providers:OpenAI:Timeout"] = "00:00:02",
            ["Providers:Together:ApiKey"] = "together-platform-jobs-0123456789",
            ["Providers:Together:BaseUrl"] = Emulators.TogetherBaseUrl.ToString(),
            ["Providers:Together:AttemptTimeout"] = "00:00:02",
            ["Providers:Together:RetryBaseDelay"] = "00:00:00.050",
        }).AddInMemoryCollection(KeyRingCertificate.Shared.Settings));
        await Silo.StartAsync();
        _api = ApiApplication.Build([], b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = Database.ConnectionString,
            ["Platform:AdminKey"] = AdminKey,
            ["Urls"] = "http://127.0.0.1:0",
            ["Logging:LogLevel:Default"] = "Warning",
        }));
        await _api.StartAsync();
        BaseAddress = new Uri(_api.Urls.First());
    }

    public HttpClient Client(string key)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>An organization on <paramref name="plan"/> holding <paramref name="count"/> validated examples.</summary>
    public async Task<(Guid Id, HttpClient Client)> OrganizationWithValidatedExamplesAsync(string plan, int count, Func<int, (string User, string Assistant)>? example = null)
    {
        example ??= i => ($"Where is order {i}?", $"Order {i} ships tomorrow.");
        using var platform = Client(AdminKey);
        var created = await (await platform.PostAsJsonAsync("/v1/organizations", new { name = $"Org {Guid.NewGuid():N}", plan })).ReadJsonAsync(System.Net.HttpStatusCode.Created);
        var id = created.GetProperty("organization").GetProperty("id").GetGuid();
        var client = Client(created.GetProperty("adminKey").GetProperty("key").GetString()!);
        var lines = string.Concat(Enumerable.Range(0, count).Select(i => JsonSerializer.Serialize(new
        {
            messages = new[] { new { role = "user", content = example(i).User }, new { role = "assistant", content = example(i).Assistant } },
        }) + "\n"));
        await (await client.PostAsync($"/v1/organizations/{id}/examples/uploads", new StringContent(lines, Encoding.UTF8, "application/jsonl"))).ReadJsonAsync();
        var ids = (await (await client.GetAsync($"/v1/organizations/{id}/examples?limit=200")).ReadJsonAsync()).GetProperty("items").EnumerateArray()
            .Select(e => e.GetProperty("id").GetGuid()).ToArray();
        await (await client.PostAsJsonAsync($"/v1/organizations/{id}/examples/validation", new { ids, qualityScore = 1.0 })).ReadJsonAsync();
        return (id, client);
    }

    public async Task DisposeAsync()
    {
        await _api.StopAsync();
        await _api.DisposeAsync();
        await Silo.StopAsync();
        Silo.Dispose();
        await Emulators.DisposeAsync();
        await Database.DisposeAsync();
    }
}
