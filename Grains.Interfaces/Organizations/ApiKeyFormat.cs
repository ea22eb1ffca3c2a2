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

    /// <summary>Splits a presented key; false for anything that is not shaped like one of ours.</summary>
    public static bool TryParse(string? key, out Guid organizationId, [NotNullWhen(true)] out string? keyId)
    {
        organizationId = default;
        keyId = null;
        if (key is null || key.Length != Marker.Length + 1 + 32 + 1 + KeyIdLength + 1 + SecretLength)
        {
            return false;
        }
        var parts = key.Split('_');
        if (parts.Length != 4 || parts[0] != Marker || parts[2].Length != KeyIdLength || parts[3].Length != SecretLength
            || !Guid.TryParseExact(parts[1], "N", out organizationId))
        {
            return false;
        }
        keyId = parts[2];
        return true;
    }

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
