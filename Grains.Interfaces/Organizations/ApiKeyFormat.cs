using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace ObjectaLabs.Orleans.Organizations;

/// <summary>
/// The shape of an organization API key: <c>olk_{organization}_{keyId}_{secret}</c>. The organization id
/// in the clear routes the check to the right grain without any lookup table; the secret is 240 bits of
/// randomness, so a fast SHA-256 hash is enough (no password-style stretching needed).
/// </summary>
public static class ApiKeyFormat
{
    public const string Marker = "olk";
    private const string Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    private const int KeyIdLength = 10;
    private const int SecretLength = 40;

    /// <summary>Makes a new key for the organization; returns the id, the whole key and its public prefix.</summary>
    public static (string KeyId, string Key, string Prefix) Create(Guid organizationId)
    {
        var keyId = RandomNumberGenerator.GetString("0123456789abcdefghijklmnopqrstuvwxyz", KeyIdLength);
        var secret = RandomNumberGenerator.GetString(Alphabet, SecretLength);
        var prefix = $"{Marker}_{organizationId:N}_{keyId}";
        return (keyId, $"{prefix}_{secret}", prefix);
    }

    /// <summary>A key's length: marker, organization id (32 hex digits), key id and secret, joined by underscores.</summary>
    public const int Length = 3 + 1 + 32 + 1 + KeyIdLength + 1 + SecretLength;

    /// <summary>Splits a presented key; false for anything that is not shaped like one of ours. Allocates only the key id.</summary>
    public static bool TryParse(string? key, out Guid organizationId, [NotNullWhen(true)] out string? keyId)
    {
        organizationId = default;
        keyId = null;
        if (key is null || key.Length != Length)
        {
            return false;
        }
        var span = key.AsSpan();
        const int idStart = 3 + 1 + 32 + 1;
        const int secretStart = idStart + KeyIdLength + 1;
        if (!span.StartsWith(Marker + "_", StringComparison.Ordinal) || span[idStart - 1] != '_' || span[secretStart - 1] != '_'
            || span.Slice(idStart, KeyIdLength).Contains('_') || span[secretStart..].Contains('_')
            || !Guid.TryParseExact(span.Slice(Marker.Length + 1, 32), "N", out organizationId))
        {
            return false;
        }
        keyId = span.Slice(idStart, KeyIdLength).ToString();
        return true;
    }

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>The key's SHA-256 into <paramref name="destination"/> (32 bytes), with no allocation, for keys of our <see cref="Length"/>.</summary>
    public static void Hash(string key, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(key.Length, Length);
        Span<byte> utf8 = stackalloc byte[Length * 3];
        var written = Encoding.UTF8.GetBytes(key, utf8);
        SHA256.HashData(utf8[..written], destination);
    }
}
