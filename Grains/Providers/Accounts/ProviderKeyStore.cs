using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Npgsql;

namespace ObjectaLabs.Orleans.Providers.Accounts;

/// <summary>
/// Organizations' own provider keys, encrypted with ASP.NET Data Protection before they reach the
/// database. The protector's purpose includes the organization id, so a ciphertext copied to another
/// organization's row does not decrypt. Plaintext keys exist only in memory, for the call that needs them.
/// </summary>
public sealed class ProviderKeyStore(NpgsqlDataSource dataSource, IDataProtectionProvider protection, TimeProvider time)
{
    private const string Purpose = "ObjectaLabs.ProviderKeys.v1";

    /// <summary>Encrypts and stores (or replaces) the key; answers what an admin may see of it.</summary>
    public async Task<ProviderKeyInfo> SetAsync(Guid organizationId, string provider, string apiKey, CancellationToken cancellationToken = default)
    {
        var info = new ProviderKeyInfo(provider, true, apiKey[^4..], Fingerprint(apiKey), time.GetUtcNow());
        var ciphertext = Protector(organizationId, provider).Protect(apiKey);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO organization_provider_keys (organization_id, provider, ciphertext, last4, fingerprint, updated_at)
            VALUES (@organizationId, @provider, @ciphertext, @last4, @fingerprint, @at)
            ON CONFLICT (organization_id, provider) DO UPDATE
              SET ciphertext = excluded.ciphertext, last4 = excluded.last4, fingerprint = excluded.fingerprint, updated_at = excluded.updated_at
            """,
            new { organizationId, provider, ciphertext, last4 = info.Last4, fingerprint = info.Fingerprint, at = info.UpdatedAt },
            cancellationToken: cancellationToken));
        return info;
    }

    /// <summary>Removes the key; true when there was one.</summary>
    public async Task<bool> RemoveAsync(Guid organizationId, string provider, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM organization_provider_keys WHERE organization_id = @organizationId AND provider = @provider",
            new { organizationId, provider }, cancellationToken: cancellationToken)) > 0;
    }

    /// <summary>One entry per keyed provider: set or not, last four characters, fingerprint.</summary>
    public async Task<IReadOnlyList<ProviderKeyInfo>> ListAsync(Guid organizationId, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = (await connection.QueryAsync<(string Provider, string Last4, string Fingerprint, DateTime UpdatedAt)>(new CommandDefinition(
            "SELECT provider, last4, fingerprint, updated_at FROM organization_provider_keys WHERE organization_id = @organizationId",
            new { organizationId }, cancellationToken: cancellationToken))).ToDictionary(r => r.Provider, StringComparer.Ordinal);
        return [.. ProviderNames.Keyed.Select(p => rows.TryGetValue(p, out var r)
            ? new ProviderKeyInfo(p, true, r.Last4, r.Fingerprint, new DateTimeOffset(DateTime.SpecifyKind(r.UpdatedAt, DateTimeKind.Utc)))
            : new ProviderKeyInfo(p, false, null, null, null))];
    }

    /// <summary>The organization's decrypted key for <paramref name="provider"/>, or null when it set none.</summary>
    public async Task<string?> GetKeyAsync(Guid organizationId, string provider, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var ciphertext = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            "SELECT ciphertext FROM organization_provider_keys WHERE organization_id = @organizationId AND provider = @provider",
            new { organizationId, provider }, cancellationToken: cancellationToken));
        return ciphertext is null ? null : Protector(organizationId, provider).Unprotect(ciphertext);
    }

    /// <summary>A short, non-reversible name for a key, so admins can tell two keys apart.</summary>
    public static string Fingerprint(string apiKey) =>
        "sha256:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)))[..16].ToLowerInvariant();

    private IDataProtector Protector(Guid organizationId, string provider) =>
        protection.CreateProtector(Purpose, organizationId.ToString("N"), provider);
}
