using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ObjectaLabs.Orleans.Api.Hosting;
using ObjectaLabs.Orleans.Hosting;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Silo.Hosting;
using ObjectaLabs.Orleans.Tests.Infrastructure;
using Orleans.Configuration;
using Orleans.Connections.Security;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace ObjectaLabs.Orleans.Tests.Cluster;

/// <summary>
/// Mutual TLS on the cluster ports over real TCP on loopback: a silo with a node certificate, the API as an Orleans
/// client with its own, and clients that must be turned away (no TLS, no certificate, another authority's certificate).
/// </summary>
public sealed class ClusterTlsTests : IAsyncLifetime
{
    private readonly TestCertificates _certificates = new();
    private readonly List<IHost> _clients = [];
    private TestDatabase _db = null!;
    private IHost _silo = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        var silo = _certificates.Issue("silo-1");
        _silo = SiloHostBuilder.Build([], b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{ClusterSettings.ConnectionStringName}"] = _db.ConnectionString,
            ["Orleans:SiloPort"] = PostgresServer.FreePort().ToString(),
            ["Orleans:GatewayPort"] = PostgresServer.FreePort().ToString(),
            ["Orleans:ApplyMigrations"] = "false",
            ["Orleans:Dashboard"] = "false",
            ["Orleans:Tls:CertificatePath"] = silo.CertificatePath,
            ["Orleans:Tls:KeyPath"] = silo.KeyPath,
            ["Orleans:Tls:AuthorityPath"] = silo.AuthorityPath,
            ["Logging:LogLevel:Default"] = "Warning",
        }).AddInMemoryCollection(KeyRingCertificate.Shared.Settings));
        await _silo.StartAsync();
    }

    [Fact]
    public async Task The_API_reaches_a_TLS_silo_with_its_own_certificate_from_the_cluster_authority()
    {
        var api = _certificates.Issue("api-1");
        var app = ApiApplication.Build([], b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{ClusterSettings.ConnectionStringName}"] = _db.ConnectionString,
            ["Platform:AdminKey"] = "olp_tls_test_" + Guid.NewGuid().ToString("N"),
            ["Urls"] = "http://127.0.0.1:0",
            ["Orleans:Tls:CertificatePath"] = api.CertificatePath,
            ["Orleans:Tls:KeyPath"] = api.KeyPath,
            ["Orleans:Tls:AuthorityPath"] = api.AuthorityPath,
            ["Logging:LogLevel:Default"] = "Warning",
        }));
        await app.StartAsync();
        try
        {
            var adminKey = app.Configuration["Platform:AdminKey"]!;
            using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
            http.DefaultRequestHeaders.Authorization = new("Bearer", adminKey);
            var created = await http.PostAsJsonAsync("/v1/organizations", new { name = "Over TLS", plan = "business" });

            var body = await created.ReadJsonAsync(HttpStatusCode.Created);
            body.GetProperty("organization").GetProperty("name").GetString().Should().Be("Over TLS");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_client_without_TLS_is_refused_by_a_TLS_gateway()
    {
        var connect = () => StartClientAsync(_ => { });

        await connect.Should().ThrowAsync<ConnectionFailedException>();
    }

    [Fact]
    public async Task A_TLS_client_without_a_certificate_is_refused()
    {
        var authority = _certificates.Issue("unused").LoadAuthority();
        var connect = () => StartClientAsync(c => c.UseTls(o =>
        {
            o.LocalCertificate = null;
            o.RemoteCertificateValidation = (remote, _, errors) => ClusterTlsSettings.Validate(remote, authority, errors);
        }));

        await connect.Should().ThrowAsync<ConnectionFailedException>();
    }

    [Fact]
    public async Task A_client_with_a_certificate_from_another_authority_is_refused()
    {
        using var stranger = new TestCertificates("Somebody else's CA");
        var foreign = stranger.Issue("intruder");
        var connect = () => StartClientAsync(c => ClusterClient.UseTls(c, foreign));

        await connect.Should().ThrowAsync<ConnectionFailedException>();
    }

    [Fact]
    public async Task A_client_with_a_cluster_certificate_calls_grains()
    {
        var client = await StartClientAsync(c => ClusterClient.UseTls(c, _certificates.Issue("worker")));
        var grain = client.Services.GetRequiredService<IGrainFactory>().GetGrain<IOrganizationGrain>(Guid.NewGuid());

        var created = await grain.CreateAsync("Client over TLS", "business");

        created.Organization.Name.Should().Be("Client over TLS");
    }

    private async Task<IHost> StartClientAsync(Action<IClientBuilder> tls)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(c =>
        {
            c.Configure<ClusterOptions>(o => { o.ClusterId = ClusterSettings.DefaultClusterId; o.ServiceId = ClusterSettings.DefaultServiceId; });
            c.UseAdoNetClustering(o => { o.Invariant = ClusterSettings.Invariant; o.ConnectionString = _db.ConnectionString; });
            // One attempt: a refused handshake is final, and the test should not wait for retries.
            c.UseConnectionRetryFilter((_, _) => Task.FromResult(false));
            tls(c);
        });
        var host = builder.Build();
        _clients.Add(host);
        await host.StartAsync();
        return host;
    }

    public async Task DisposeAsync()
    {
        foreach (var client in _clients)
        {
            try
            {
                await client.StopAsync();
            }
            catch (Exception e) when (e is SiloUnavailableException or ConnectionFailedException or OrleansException)
            {
                // A refused client never connected; there is nothing to stop.
            }
            client.Dispose();
        }
        await _silo.StopAsync();
        _silo.Dispose();
        await _db.DisposeAsync();
        _certificates.Dispose();
    }
}
