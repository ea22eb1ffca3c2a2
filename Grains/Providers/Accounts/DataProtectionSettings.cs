using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ObjectaLabs.Orleans.Providers.Accounts;

/// <summary>
/// Section <c>DataProtection</c>: the certificate that encrypts the Data Protection key ring before it is written to
/// PostgreSQL (<c>data_protection_keys</c>). Without it the ring sits in the same database as the ciphertexts it
/// decrypts, and a dump of that database reveals every organization's own provider keys.
/// </summary>
public sealed class DataProtectionSettings
{
    public const string Section = "DataProtection";

    /// <summary>A PFX/PKCS#12 file holding an RSA certificate and its private key; the same file on every silo.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The password of <see cref="CertificatePath"/>, if it has one.</summary>
    public string? CertificatePassword { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(CertificatePath);

    /// <summary>Loads the certificate with its private key, or explains which setting is wrong.</summary>
    public X509Certificate2 LoadCertificate()
    {
        var path = CertificatePath;
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new InvalidOperationException($"{Section}:CertificatePath is required.");
        }
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"{Section}:CertificatePath: the file {path} does not exist.");
        }
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, string.IsNullOrEmpty(CertificatePassword) ? null : CertificatePassword);
        }
        catch (CryptographicException e)
        {
            throw new InvalidOperationException(
                $"{Section}:CertificatePath: cannot load {path} as a PFX/PKCS#12 file (wrong {Section}:CertificatePassword?): {e.Message}", e);
        }
        using var rsa = certificate.GetRSAPrivateKey();
        if (rsa is null)
        {
            certificate.Dispose();
            throw new InvalidOperationException(
                $"{Section}:CertificatePath: {path} must hold an RSA certificate with its private key (Data Protection encrypts the key ring with RSA).");
        }
        return certificate;
    }
}

/// <summary>
/// Refuses to start a host whose key ring would be stored unencrypted, except in the Development environment,
/// where it starts with a warning.
/// </summary>
internal sealed class KeyRingProtectionCheck(IHostEnvironment environment, ILogger<KeyRingProtectionCheck> logger) : IValidateOptions<DataProtectionSettings>
{
    public const string Unprotected =
        "DataProtection:CertificatePath is not set: the Data Protection key ring that encrypts organizations' own provider keys " +
        "would be stored unencrypted in PostgreSQL (data_protection_keys), so a copy of the database would reveal every key. " +
        "Set DataProtection:CertificatePath to a PFX file with an RSA certificate and key (and DataProtection:CertificatePassword); " +
        "./run creates one. Only the Development environment starts without it.";

    public ValidateOptionsResult Validate(string? name, DataProtectionSettings options)
    {
        if (options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }
        if (environment.IsDevelopment())
        {
            logger.LogWarning("{Problem} Starting anyway because the environment is Development.", Unprotected);
            return ValidateOptionsResult.Success;
        }
        return ValidateOptionsResult.Fail(Unprotected);
    }
}
