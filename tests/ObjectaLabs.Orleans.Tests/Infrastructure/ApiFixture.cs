using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using ObjectaLabs.Orleans.Api.Hosting;
using ObjectaLabs.Orleans.Hosting;
using ObjectaLabs.Orleans.Silo.Hosting;

namespace ObjectaLabs.Orleans.Tests.Infrastructure;

/// <summary>
/// The whole system on real parts: a fresh PostgreSQL database, a production silo host on free ports
/// (ADO.NET clustering, storage, reminders) and the production API on Kestrel at a free loopback port,
/// reaching the silo as an Orleans client through the ADO.NET gateway list. The silo's few-shot embedding mode uses the
/// OpenAI emulator's embeddings route (real HTTP through the OpenAI SDK; its vectors say they are simulated).
/// </summary>
public sealed class ApiFixture : IAsyncLifetime
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private readonly List<WebApplication> _apis = [];

    public TestDatabase Database { get; private set; } = null!;
    public ProviderEmulators.ProviderEmulatorHost Emulators { get; private set; } = null!;
    public IHost Silo { get; private set; } = null!;
    public Uri BaseAddress { get; private set; } = null!;
    public string AdminKey { get; } = "olp_test_" + Guid.NewGuid().ToString("N");

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateAsync();
        Emulators = await ProviderEmulators.ProviderEmulatorHost.StartAsync();
        Silo = await StartSiloAsync();
        BaseAddress = await StartApiAsync(new Dictionary<string, string?>());
    }

    /// <summary>
    /// Starts the silo on two free ports. They are picked before the silo binds them (a silo advertises its ports in the
    /// membership table), so another test host can take one first: then the start is tried again on other ports.
    /// </summary>
    private async Task<IHost> StartSiloAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            var silo = SiloHostBuilder.Build([], b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                [$"ConnectionStrings:{ClusterSettings.ConnectionStringName}"] = Database.ConnectionString,
                ["Orleans:SiloPort"] = PostgresServer.FreePort().ToString(),
                ["Orleans:GatewayPort"] = PostgresServer.FreePort().ToString(),
                ["Orleans:ApplyMigrations"] = "false",
                ["Logging:LogLevel:Default"] = "Warning",
                // The sandbox trains in well under a second, followed every 100 ms, so job tests take no time to speak of.
                ["Providers:Sandbox:ValidatingDuration"] = "00:00:00.050",
                ["Providers:Sandbox:QueuedDuration"] = "00:00:00.050",
                ["Providers:Sandbox:StepDuration"] = "00:00:00.010",
                ["TrainingJobs:SandboxPollInterval"] = "00:00:00.100",
                // Usage reaches the rollups within a fraction of a second; a model cools down after 10 requests, for 3 s.
                ["Usage:ForwardInterval"] = "00:00:00.100",
                ["Usage:FlushInterval"] = "00:00:00.500",
                ["Usage:CooldownMinimumRequests"] = "10",
                ["Usage:CooldownDuration"] = "00:00:03",
                ["FewShot:Embeddings:BaseUrl"] = Emulators.OpenAiBaseUrl.ToString(),
                ["FewShot:Embeddings:ApiKey"] = "sk-test-embeddings",
            }).AddInMemoryCollection(KeyRingCertificate.Shared.Settings));
            try
            {
                await silo.StartAsync();
                return silo;
            }
            catch (Exception e) when (attempt < 5 && IsAddressInUse(e))
            {
                silo.Dispose();
            }
        }
    }

    private static bool IsAddressInUse(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse })
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Starts another API process-equivalent on the same cluster, with extra settings (e.g. tight rate limits).</summary>
    public async Task<Uri> StartApiAsync(IDictionary<string, string?> settings)
    {
        var config = new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{ClusterSettings.ConnectionStringName}"] = Database.ConnectionString,
            ["Platform:AdminKey"] = AdminKey,
            ["Urls"] = "http://127.0.0.1:0",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Api:MaxRequestBodyBytes"] = "65536",
        };
        foreach (var (key, value) in settings)
        {
            config[key] = value;
        }
        var api = ApiApplication.Build([], b => b.Configuration.AddInMemoryCollection(config));
        await api.StartAsync();
        _apis.Add(api);
        return new Uri(api.Urls.First());
    }

    /// <summary>The services of the API host listening at <paramref name="address"/> (the first host when null).</summary>
    public IServiceProvider ApiServices(Uri? address = null) =>
        _apis.Single(a => new Uri(a.Urls.First()) == (address ?? BaseAddress)).Services;

    public HttpClient Client(string? key = null, Uri? baseAddress = null)
    {
        var client = new HttpClient { BaseAddress = baseAddress ?? BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return client;
    }

    public HttpClient PlatformClient() => Client(AdminKey);

    /// <summary>Creates an organization through the API and returns its id and first admin key.</summary>
    public async Task<(Guid Id, string AdminKey)> CreateOrganizationAsync(string plan = "business", string? name = null)
    {
        using var client = PlatformClient();
        var response = await client.PostAsJsonAsync("/v1/organizations", new { name = name ?? $"Org {Guid.NewGuid():N}", plan });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Json);
        return (body.GetProperty("organization").GetProperty("id").GetGuid(), body.GetProperty("adminKey").GetProperty("key").GetString()!);
    }

    public async Task DisposeAsync()
    {
        foreach (var api in _apis)
        {
            await api.StopAsync();
            await api.DisposeAsync();
        }
        await Silo.StopAsync();
        Silo.Dispose();
        await Emulators.DisposeAsync();
        await Database.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ApiCollection : ICollectionFixture<ApiFixture>
{
    public const string Name = "api";
}
