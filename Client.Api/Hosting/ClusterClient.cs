using Microsoft.Extensions.Options;
using ObjectaLabs.Orleans.Hosting;
using Orleans.Configuration;
using Orleans.Connections.Security;

namespace ObjectaLabs.Orleans.Api.Hosting;

/// <summary>The API's Orleans client: the cluster's ids, the gateway list from the database, and mutual TLS when configured.</summary>
public static class ClusterClient
{
    public static void Configure(IClientBuilder client, IConfiguration configuration, string connectionString)
    {
        client.Services.AddOptions<ClusterSettings>().BindConfiguration(ClusterSettings.Section).ValidateDataAnnotations().ValidateOnStart();
        client.Services.AddOptions<ClusterOptions>().Configure<IOptions<ClusterSettings>>((o, settings) =>
        {
            o.ClusterId = settings.Value.ClusterId;
            o.ServiceId = settings.Value.ServiceId;
        });
        ClusterSettings.CarryDatabaseFaults(client.Services);
        client.UseAdoNetClustering(o =>
        {
            o.Invariant = ClusterSettings.Invariant;
            o.ConnectionString = connectionString;
        });
        var tls = configuration.GetSection($"{ClusterSettings.Section}:Tls").Get<ClusterTlsSettings>() ?? new ClusterTlsSettings();
        if (tls.Enabled)
        {
            UseTls(client, tls);
        }
    }

    /// <summary>TLS to the gateways: this API presents its certificate and accepts only gateways whose certificate the cluster's authority issued.</summary>
    public static void UseTls(IClientBuilder client, ClusterTlsSettings settings)
    {
        var certificate = settings.LoadCertificate();
        var authority = settings.LoadAuthority();
        client.UseTls(certificate, o =>
        {
            o.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
            o.RemoteCertificateValidation = (remote, _, errors) => ClusterTlsSettings.Validate(remote, authority, errors);
        });
    }
}
