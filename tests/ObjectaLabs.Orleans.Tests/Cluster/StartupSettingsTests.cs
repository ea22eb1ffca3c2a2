using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ObjectaLabs.Orleans.Api.Hosting;
using ObjectaLabs.Orleans.Hosting;
using ObjectaLabs.Orleans.Silo.Hosting;
using Orleans.Configuration;

namespace ObjectaLabs.Orleans.Tests.Cluster;

/// <summary>Settings that would make a host unsafe or broken stop its start-up with a message naming the setting.</summary>
public sealed class StartupSettingsTests
{
    // Never reached: every host here fails (or is only built) before it would connect.
    private const string UnusedDatabase = "Host=127.0.0.1;Port=1;Database=none;Username=none;Password=none";

    [Theory]
    [InlineData("Orleans:AdvertisedIPAddress", "10.20.30.40")]
    [InlineData("Orleans:ListenOnAnyAddress", "true")]
    public void A_silo_refuses_cluster_ports_beyond_loopback_without_TLS(string setting, string value)
    {
        var build = () => SiloHostBuilder.Build([], b => b.Configuration.AddInMemoryCollection(Silo((setting, value))));

        build.Should().Throw<InvalidOperationException>()
            .WithMessage("Refusing to open the cluster ports*without TLS*Orleans:Tls:CertificatePath*Orleans:AllowInsecureNetwork=true*");
    }

    [Fact]
    public void A_silo_opens_non_loopback_ports_without_TLS_only_with_the_explicit_insecure_switch()
    {
        using var host = SiloHostBuilder.Build([], b => b.Configuration.AddInMemoryCollection(
            Silo(("Orleans:AdvertisedIPAddress", "10.20.30.40"), ("Orleans:AllowInsecureNetwork", "true"))));

        host.Services.GetRequiredService<IOptions<SiloSettings>>().Value.AllowInsecureNetwork.Should().BeTrue();
    }

    [Fact]
    public void A_silo_listens_on_loopback_by_default()
    {
        using var host = SiloHostBuilder.Build([], b => b.Configuration.AddInMemoryCollection(Silo()));

        var endpoints = host.Services.GetRequiredService<IOptions<EndpointOptions>>().Value;
        endpoints.AdvertisedIPAddress.Should().Be(System.Net.IPAddress.Loopback);
        endpoints.SiloListeningEndpoint.Should().BeNull("with no listening endpoint of its own the silo listens on the advertised loopback address");
    }

    [Fact]
    public void A_silo_with_a_missing_certificate_file_names_the_setting()
    {
        var build = () => SiloHostBuilder.Build([], b => b.Configuration.AddInMemoryCollection(
            Silo(("Orleans:Tls:CertificatePath", "/nonexistent/node.pem"), ("Orleans:Tls:AuthorityPath", "/nonexistent/ca.pem"))));

        build.Should().Throw<InvalidOperationException>().WithMessage("Orleans:Tls:CertificatePath: the file /nonexistent/node.pem does not exist.");
    }

    [Theory]
    [InlineData("Api:MaxRequestBodyBytes", "0", "Api:MaxRequestBodyBytes must be at least 1024 bytes.")]
    [InlineData("Api:MaxUploadBytes", "-1", "Api:MaxUploadBytes must be at least 1024 bytes.")]
    [InlineData("RateLimits:Runtime:Burst", "0", "RateLimits:Runtime:Burst must be at least 1 (is 0).")]
    [InlineData("Platform:AdminKey", "olp_short", "Platform:AdminKey must be at least 24 characters.")]
    [InlineData("Platform:AdminKey", "platform-key-Xy7Kq2Lm9Pz4Rt6Wv8", "Platform:AdminKey must start with 'olp_'")]
    [InlineData("Platform:AdminKey", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "Platform:AdminKey is too simple: it needs at least 8 different characters")]
    [InlineData("Orleans:ServiceId", "", "Orleans:ServiceId is required.")]
    public async Task The_API_refuses_to_start_with_a_bad_setting_and_names_it(string setting, string value, string message)
    {
        var start = async () =>
        {
            await using var app = ApiApplication.Build([], b => b.Configuration.AddInMemoryCollection(Api((setting, value))));
            await app.StartAsync();
        };

        await start.Should().ThrowAsync<OptionsValidationException>().WithMessage($"*{message}*");
    }

    [Fact]
    public async Task The_API_names_a_setting_whose_value_is_not_a_number()
    {
        var start = async () =>
        {
            await using var app = ApiApplication.Build([], b => b.Configuration.AddInMemoryCollection(Api(("Api:MaxRequestBodyBytes", "a lot"))));
            await app.StartAsync();
        };

        await start.Should().ThrowAsync<InvalidOperationException>().WithMessage("*'Api:MaxRequestBodyBytes'*");
    }

    [Theory]
    [InlineData("simple")]
    [InlineData("json")]
    [InlineData(null)]
    public async Task Console_logs_use_the_configured_formatter_or_short_lines_on_a_terminal_and_JSON_when_redirected(string? configured)
    {
        // A test's output is a pipe, so with nothing configured the choice is JSON; on a terminal it is short lines.
        var expected = configured ?? (Console.IsOutputRedirected ? "json" : "simple");
        var setting = configured is null ? [] : new[] { ("Logging:Console:FormatterName", configured) };

        using var silo = SiloHostBuilder.Build([], b => b.Configuration.AddInMemoryCollection(Silo(setting)));
        await using var api = ApiApplication.Build([], b => b.Configuration.AddInMemoryCollection(Api(setting)));

        silo.Services.GetRequiredService<IOptionsMonitor<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>>().CurrentValue.FormatterName
            .Should().Be(expected);
        api.Services.GetRequiredService<IOptionsMonitor<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>>().CurrentValue.FormatterName
            .Should().Be(expected);
    }

    private static Dictionary<string, string?> Silo(params (string Key, string Value)[] settings)
    {
        var config = new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{ClusterSettings.ConnectionStringName}"] = UnusedDatabase,
            ["Orleans:ApplyMigrations"] = "false",
            ["Logging:LogLevel:Default"] = "None",
        };
        foreach (var (key, value) in settings)
        {
            config[key] = value;
        }
        return config;
    }

    private static Dictionary<string, string?> Api(params (string Key, string Value)[] settings)
    {
        var config = new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{ClusterSettings.ConnectionStringName}"] = UnusedDatabase,
            ["Platform:AdminKey"] = "olp_startup_test_" + Guid.NewGuid().ToString("N"),
            ["Urls"] = "http://127.0.0.1:0",
            ["Logging:LogLevel:Default"] = "None",
        };
        foreach (var (key, value) in settings)
        {
            config[key] = value;
        }
        return config;
    }
}
