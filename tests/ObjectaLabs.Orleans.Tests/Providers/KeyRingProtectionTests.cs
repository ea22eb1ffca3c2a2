using System.Security.Cryptography;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ObjectaLabs.Orleans.Hosting;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Providers.Accounts;
using ObjectaLabs.Orleans.Silo.Hosting;
using ObjectaLabs.Orleans.Tests.Infrastructure;

namespace ObjectaLabs.Orleans.Tests.Providers;

/// <summary>
/// The Data Protection key ring in PostgreSQL is encrypted with the configured certificate: a copy of the database
/// holds no usable key material, the same certificate reads the keys again after a restart, and another does not.
/// </summary>
public sealed class KeyRingProtectionTests : IAsyncLifetime
{
    private readonly KeyRingCertificate _certificate = new("ring");
    private TestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    [Fact]
    public async Task The_key_ring_rows_hold_no_plaintext_key_and_a_provider_key_reads_back_after_a_restart_with_the_same_certificate()
    {
        var organization = Guid.NewGuid();
        var key = "sk-ring-" + Guid.NewGuid().ToString("N");
        using (var first = await StartSiloAsync(_certificate))
        {
            await first.Services.GetRequiredService<IGrainFactory>().GetGrain<IOrganizationGrain>(organization).CreateAsync("Ring", "enterprise");
            await first.Services.GetRequiredService<ProviderKeyStore>().SetAsync(organization, "openai", key);
            await first.StopAsync();
        }

        await using var connection = await _db.DataSource.OpenConnectionAsync();
        var rows = (await connection.QueryAsync<string>("SELECT xml FROM data_protection_keys")).ToList();
        rows.Should().NotBeEmpty();
        rows.Should().AllSatisfy(xml =>
        {
            // An unprotected ring stores the master key as <masterKey><value>base64</value></masterKey>.
            xml.Should().NotContain("<value>").And.NotContain("unencrypted form");
            xml.Should().Contain("encryptedSecret").And.Contain("EncryptedXmlDecryptor").And.Contain("EncryptedData");
        });

        using var second = await StartSiloAsync(_certificate);
        var read = await second.Services.GetRequiredService<ProviderKeyStore>().GetKeyAsync(organization, "openai");
        await second.StopAsync();

        read.Should().Be(key);
    }

    [Fact]
    public async Task A_silo_with_another_certificate_cannot_read_the_keys()
    {
        var organization = Guid.NewGuid();
        using (var first = await StartSiloAsync(_certificate))
        {
            await first.Services.GetRequiredService<IGrainFactory>().GetGrain<IOrganizationGrain>(organization).CreateAsync("Ring", "enterprise");
            await first.Services.GetRequiredService<ProviderKeyStore>().SetAsync(organization, "together", "tg-ring-0123456789");
            await first.StopAsync();
        }
        using var stranger = new KeyRingCertificate("stranger");

        using var second = await StartSiloAsync(stranger);
        var read = () => second.Services.GetRequiredService<ProviderKeyStore>().GetKeyAsync(organization, "together");

        await read.Should().ThrowAsync<CryptographicException>();
        await second.StopAsync();
    }

    [Fact]
    public async Task A_silo_without_a_certificate_refuses_to_start_naming_the_setting()
    {
        using var silo = BuildSilo(null);

        var start = () => silo.StartAsync();

        await start.Should().ThrowAsync<OptionsValidationException>().WithMessage("*DataProtection:CertificatePath is not set*stored unencrypted*");
    }

    [Fact]
    public void A_development_silo_without_a_certificate_passes_the_check_with_a_warning()
    {
        using var silo = BuildSilo(null, environment: Environments.Development);

        var settings = silo.Services.GetRequiredService<IOptions<DataProtectionSettings>>().Value;

        settings.Enabled.Should().BeFalse();
    }

    [Theory]
    [InlineData("/nonexistent/ring.pfx", null, "DataProtection:CertificatePath: the file /nonexistent/ring.pfx does not exist.")]
    [InlineData(null, "wrong password", "DataProtection:CertificatePath: cannot load*wrong DataProtection:CertificatePassword?*")]
    public void A_bad_certificate_setting_stops_the_build_naming_it(string? path, string? password, string message)
    {
        var build = () => BuildSilo(new Dictionary<string, string?>
        {
            ["DataProtection:CertificatePath"] = path ?? _certificate.Path,
            ["DataProtection:CertificatePassword"] = password ?? _certificate.Password,
        });

        build.Should().Throw<InvalidOperationException>().WithMessage(message);
    }

    private async Task<IHost> StartSiloAsync(KeyRingCertificate certificate)
    {
        var silo = BuildSilo(certificate.Settings);
        await silo.StartAsync();
        return silo;
    }

    private IHost BuildSilo(IEnumerable<KeyValuePair<string, string?>>? keyRing, string? environment = null) =>
        SiloHostBuilder.Build(environment is null ? [] : ["--environment", environment], b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{ClusterSettings.ConnectionStringName}"] = _db.ConnectionString,
            ["Orleans:SiloPort"] = PostgresServer.FreePort().ToString(),
            ["Orleans:GatewayPort"] = PostgresServer.FreePort().ToString(),
            ["Orleans:ApplyMigrations"] = "false",
            ["Orleans:Dashboard"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
        }).AddInMemoryCollection(keyRing ?? []));

    public async Task DisposeAsync()
    {
        await _db.DisposeAsync();
        _certificate.Dispose();
    }
}
