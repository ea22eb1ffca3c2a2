using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ObjectaLabs.Orleans.Api.Hosting;
using ObjectaLabs.Orleans.ProviderEmulators;
using ObjectaLabs.Orleans.Silo.Hosting;
using ObjectaLabs.Orleans.Tests.Infrastructure;

namespace ObjectaLabs.Orleans.Tests.Providers;

/// <summary>
/// A production silo and API on a fresh database (like <see cref="ApiFixture"/>) with every log line of
/// both captured, a platform OpenAI key and no platform Together key, both pointed at the emulators.
/// </summary>
public sealed class ProviderKeysFixture : IAsyncLifetime
{
    public const string PlatformOpenAiKey = "sk-platform-0123456789abcdef";

    private WebApplication _api = null!;

    public TestDatabase Database { get; private set; } = null!;
    public IHost Silo { get; private set; } = null!;
    public Uri BaseAddress { get; private set; } = null!;
    public ProviderEmulatorHost Emulators { get; private set; } = null!;
    public LogCapture Logs { get; } = new();
    public string AdminKey { get; } = "olp_test_" + Guid.NewGuid().ToString("N");

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateAsync();
        Emulators = await ProviderEmulatorHost.StartAsync(new EmulatorOptions { AutoAdvance = false });
        Silo = SiloHostBuilder.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ConnectionStrings:Postgres"] = Database.ConnectionString,
                ["Orleans:SiloPort"] = PostgresServer.FreePort().ToString(),
                ["Orleans:GatewayPort"] = PostgresServer.FreePort().ToString(),
                ["Orleans:ApplyMigrations"] = "false",
                ["Logging:LogLevel:Default"] = "Debug",
                ["Providers:OpenAI:ApiKey"] = PlatformOpenAiKey,
                ["Providers:OpenAI:BaseUrl"] = Emulators.OpenAiBaseUrl.ToString(),
                ["Providers:Together:BaseUrl"] = Emulators.TogetherBaseUrl.ToString(),
            }).AddInMemoryCollection(KeyRingCertificate.Shared.Settings);
            b.Logging.AddProvider(Logs);
        });
        await Silo.StartAsync();
        _api = ApiApplication.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ConnectionStrings:Postgres"] = Database.ConnectionString,
                ["Platform:AdminKey"] = AdminKey,
                ["Urls"] = "http://127.0.0.1:0",
                ["Logging:LogLevel:Default"] = "Debug",
            });
            b.Logging.AddProvider(Logs);
        });
        await _api.StartAsync();
        BaseAddress = new Uri(_api.Urls.First());
    }

    public HttpClient Client(string key)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public async Task<(Guid Id, string AdminKey)> CreateOrganizationAsync(string plan)
    {
        using var client = Client(AdminKey);
        var response = await client.PostAsJsonAsync("/v1/organizations", new { name = $"Org {Guid.NewGuid():N}", plan });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (body.GetProperty("organization").GetProperty("id").GetGuid(), body.GetProperty("adminKey").GetProperty("key").GetString()!);
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

/// <summary>Keeps every formatted log line (with its exception) of the processes it is added to.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{category} {logLevel}: {formatter(state, exception)} {exception} {state}");
    }
}
