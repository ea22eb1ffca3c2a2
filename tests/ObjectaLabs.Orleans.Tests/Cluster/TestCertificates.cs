using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ObjectaLabs.Orleans.Hosting;

namespace ObjectaLabs.Orleans.Tests.Cluster;

/// <summary>A throw-away certificate authority and the node certificates it issues, as PEM files like an operator's.</summary>
public sealed class TestCertificates : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("objectalabs-tls-");
    private readonly X509Certificate2 _authority;
    private readonly ECDsa _authorityKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public TestCertificates(string authorityName = "ObjectaLabs test cluster CA")
    {
        var request = new CertificateRequest($"CN={authorityName}", _authorityKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        _authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        AuthorityPath = Path.Combine(_folder.FullName, "ca.pem");
        File.WriteAllText(AuthorityPath, _authority.ExportCertificatePem());
    }

    public string AuthorityPath { get; }

    /// <summary>Issues a node certificate (server and client authentication, 127.0.0.1) and returns the TLS settings for it.</summary>
    public ClusterTlsSettings Issue(string node)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={node}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_authority, true, false));
        using var issued = request.Create(_authority, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7),
            RandomNumberGenerator.GetBytes(12));
        var certificatePath = Path.Combine(_folder.FullName, $"{node}.pem");
        var keyPath = Path.Combine(_folder.FullName, $"{node}.key");
        File.WriteAllText(certificatePath, issued.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return new ClusterTlsSettings { CertificatePath = certificatePath, KeyPath = keyPath, AuthorityPath = AuthorityPath };
    }

    public void Dispose()
    {
        _authority.Dispose();
        _authorityKey.Dispose();
        _folder.Delete(recursive: true);
    }
}
