using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ObjectaLabs.Orleans.Providers.Accounts;

namespace ObjectaLabs.Orleans.Tests.Infrastructure;

/// <summary>
/// A self-signed RSA certificate in a PFX file, as an operator (or <c>./run</c>) provides it for
/// <c>DataProtection:CertificatePath</c>. <see cref="Shared"/> is the one every production-configured test host uses.
/// </summary>
public sealed class KeyRingCertificate : IDisposable
{
    private static readonly Lazy<KeyRingCertificate> SharedCertificate = new(() =>
    {
        var certificate = new KeyRingCertificate("shared");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => certificate.Dispose();
        return certificate;
    });

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("objectalabs-keyring-");

    public KeyRingCertificate(string name, string? password = "test-password")
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN=ObjectaLabs data protection ({name})", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        Path = System.IO.Path.Combine(_folder.FullName, $"{name}.pfx");
        Password = password;
        File.WriteAllBytes(Path, certificate.Export(X509ContentType.Pkcs12, password));
    }

    public static KeyRingCertificate Shared => SharedCertificate.Value;

    public string Path { get; }
    public string? Password { get; }

    /// <summary>The settings that point a host at this certificate.</summary>
    public IEnumerable<KeyValuePair<string, string?>> Settings =>
    [
        new($"{DataProtectionSettings.Section}:CertificatePath", Path),
        new($"{DataProtectionSettings.Section}:CertificatePassword", Password),
    ];

    public void Dispose()
    {
        if (_folder.Exists)
        {
            _folder.Delete(recursive: true);
        }
    }
}
