using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace ObjectaLabs.Orleans.Hosting;

/// <summary>
/// Section <c>Orleans:Tls</c>: this node's certificate and the certificate authority every cluster member's
/// certificate must be issued by. With a certificate configured, silos and API clients talk TLS only and both
/// ends of every connection must present a certificate from that authority (mutual authentication).
/// </summary>
public sealed class ClusterTlsSettings
{
    /// <summary>This node's certificate: a PEM file (with <see cref="KeyPath"/>, or the key in the same file) or a PFX/PKCS#12 file.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of <see cref="CertificatePath"/>, when it is not in the same file.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The password of a PFX file or of an encrypted PEM key.</summary>
    public string? Password { get; set; }

    /// <summary>The PEM certificate of the cluster's certificate authority; only certificates it issued are accepted.</summary>
    public string? AuthorityPath { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(CertificatePath);

    /// <summary>Loads this node's certificate with its private key, or explains which setting is wrong.</summary>
    public X509Certificate2 LoadCertificate()
    {
        var path = Existing(CertificatePath, "Orleans:Tls:CertificatePath");
        try
        {
            var extension = Path.GetExtension(path).ToLowerInvariant();
            if (extension is ".pfx" or ".p12")
            {
                return X509CertificateLoader.LoadPkcs12FromFile(path, Password);
            }
            var keyPath = string.IsNullOrWhiteSpace(KeyPath) ? path : Existing(KeyPath, "Orleans:Tls:KeyPath");
            using var pem = string.IsNullOrEmpty(Password)
                ? X509Certificate2.CreateFromPemFile(path, keyPath)
                : X509Certificate2.CreateFromEncryptedPemFile(path, Password, keyPath);
            // A PEM-loaded key is ephemeral; TLS needs it in a PKCS#12 container.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new InvalidOperationException($"Orleans:Tls:CertificatePath: cannot load a certificate with its private key from {path}: {e.Message}", e);
        }
    }

    /// <summary>Loads the certificate authority the cluster trusts.</summary>
    public X509Certificate2 LoadAuthority()
    {
        var path = Existing(AuthorityPath, "Orleans:Tls:AuthorityPath");
        try
        {
            return X509CertificateLoader.LoadCertificateFromFile(path);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new InvalidOperationException($"Orleans:Tls:AuthorityPath: cannot load a certificate from {path}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Accepts a peer only when its certificate chains to <paramref name="authority"/> (and nothing else: the machine's
    /// trust store plays no part). Host names are not checked: cluster members are addressed by IP, and membership
    /// of the cluster is what the authority's signature says.
    /// </summary>
    public static bool IsIssuedBy(X509Certificate2? certificate, X509Certificate2 authority)
    {
        if (certificate is null)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    /// <summary>The validation callback's shape: policy errors from the machine's trust store are replaced by <see cref="IsIssuedBy"/>.</summary>
    public static bool Validate(X509Certificate2? certificate, X509Certificate2 authority, SslPolicyErrors errors) =>
        !errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable) && IsIssuedBy(certificate, authority);

    private static string Existing(string? path, string setting) =>
        string.IsNullOrWhiteSpace(path)
            ? throw new InvalidOperationException($"{setting} is required for TLS.")
            : File.Exists(path) ? path : throw new InvalidOperationException($"{setting}: the file {path} does not exist.");
}
