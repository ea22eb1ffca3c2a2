using ObjectaLabs.Orleans.Hosting;
using Orleans.Connections.Security;

namespace ObjectaLabs.Orleans.Silo.Hosting;

/// <summary>Mutual TLS on the silo's ports: silo-to-silo both ways, and every client must present a certificate.</summary>
public static class ClusterTls
{
    public static void Use(ISiloBuilder silo, ClusterTlsSettings settings)
    {
        var certificate = settings.LoadCertificate();
        var authority = settings.LoadAuthority();
        silo.UseTls(certificate, o =>
        {
            o.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
            o.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
            o.RemoteCertificateValidation = (remote, _, errors) => ClusterTlsSettings.Validate(remote, authority, errors);
        });
    }
}
