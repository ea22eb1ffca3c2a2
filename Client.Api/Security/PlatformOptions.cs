using System.Security.Cryptography;

namespace ObjectaLabs.Orleans.Api.Security;

/// <summary>Section <c>Platform</c>: the platform admin key, or where to keep a generated one.</summary>
public sealed class PlatformOptions
{
    public const string Section = "Platform";

    /// <summary>The platform admin key. When empty, one is generated into <see cref="DataDirectory"/>.</summary>
    public string? AdminKey { get; set; }

    /// <summary>A private folder for local state (the generated admin key); <c>./run</c> points it at <c>.data/</c>.</summary>
    public string? DataDirectory { get; set; }
}

/// <summary>The platform admin key in force, resolved once at start-up.</summary>
public sealed class PlatformAdminKey
{
    public const string FileName = "admin-key";
    private readonly byte[] _hash;

    private PlatformAdminKey(string key) => _hash = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key));

    public bool Matches(string presented) =>
        CryptographicOperations.FixedTimeEquals(_hash, SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(presented)));

    public static PlatformAdminKey Resolve(PlatformOptions options, ILogger logger)
    {
        if (!string.IsNullOrWhiteSpace(options.AdminKey))
        {
            if (options.AdminKey.Length < 24)
            {
                throw new InvalidOperationException("Platform:AdminKey must be at least 24 characters.");
            }
            return new PlatformAdminKey(options.AdminKey);
        }
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            throw new InvalidOperationException(
                "No platform admin key: set Platform__AdminKey, or Platform__DataDirectory to have one generated there (./run does this).");
        }
        Directory.CreateDirectory(options.DataDirectory);
        var path = Path.Combine(options.DataDirectory, FileName);
        if (!File.Exists(path))
        {
            var key = "olp_" + RandomNumberGenerator.GetString("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 40);
            File.WriteAllText(path, key);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            logger.LogWarning("Generated a platform admin key in {Path}; keep it secret", path);
        }
        return new PlatformAdminKey(File.ReadAllText(path).Trim());
    }
}
