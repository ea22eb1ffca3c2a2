using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ObjectaLabs.Orleans.Bench.Jobs;

/// <summary>A throwaway self-signed certificate for the benchmark silo's Data Protection key ring (a silo refuses to start without one).</summary>
public static class BenchCertificate
{
    private static readonly Lazy<string> File = new(() =>
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=ObjectaLabs benchmark key ring", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var folder = Directory.CreateTempSubdirectory("objectalabs-bench-keyring-");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => folder.Delete(recursive: true);
        var path = System.IO.Path.Combine(folder.FullName, "bench.pfx");
        System.IO.File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12));
        return path;
    });

    public static string Path => File.Value;
}
