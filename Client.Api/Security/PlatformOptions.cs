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

    /// <summary>The fewest characters a platform admin key may have.</summary>
    public const int MinimumLength = 24;

    /// <summary>The fewest different characters: a long key of few symbols (<c>aaaa…</c>, <c>abab…</c>) is guessable.</summary>
    public const int MinimumDistinctCharacters = 8;

    /// <summary>Why <paramref name="key"/> (already trimmed) is too weak to be the platform admin key, or null when it is not.</summary>
    public static string? Weakness(string key) =>
        key.Length < MinimumLength ? $"must be at least {MinimumLength} characters"
        : key.Distinct().Count() < MinimumDistinctCharacters ? $"is too simple: it needs at least {MinimumDistinctCharacters} different characters (use a random key)"
        : null;

    public static PlatformAdminKey Resolve(PlatformOptions options, ILogger logger)
    {
        var configured = options.AdminKey?.Trim();
        if (!string.IsNullOrEmpty(configured))
        {
            return Weakness(configured) is { } weakness
                ? throw new InvalidOperationException($"Platform:AdminKey {weakness}.")
                : new PlatformAdminKey(configured);
        }
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            throw new InvalidOperationException(
                "No platform admin key: set Platform__AdminKey, or Platform__DataDirectory to have one generated there (./run does this).");
        }
        Directory.CreateDirectory(options.DataDirectory);
        var path = Path.Combine(options.DataDirectory, FileName);
        if (!File.Exists(path) && WriteNewSecret(path, "olp_" + RandomNumberGenerator.GetString("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 40)))
        {
            logger.LogWarning("Generated a platform admin key in {Path}; keep it secret", path);
        }
        var stored = File.ReadAllText(path).Trim();
        return Weakness(stored) is { } fault
            ? throw new InvalidOperationException($"The platform admin key in {path} {fault} (Platform:DataDirectory).")
            : new PlatformAdminKey(stored);
    }

    /// <summary>
    /// Writes <paramref name="content"/> to a new file that is private (0600) from its creation and appears whole:
    /// it is written under a temporary name created with that mode, then moved into place. False when another
    /// process created <paramref name="path"/> first (its file is kept).
    /// </summary>
    internal static bool WriteNewSecret(string path, string content)
    {
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        try
        {
            using (var stream = new FileStream(temporary, options))
            using (var writer = new StreamWriter(stream))
            {
                writer.Write(content);
            }
            File.Move(temporary, path, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
