using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;

namespace ObjectaLabs.Orleans.Silo.Database;

/// <summary>One ordered script from <c>sql/</c>.</summary>
public sealed record Migration(string Version, string Name, string Sql)
{
    public string Checksum { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql)));
}

/// <summary>What one run of the runner did.</summary>
public sealed record MigrationResult(IReadOnlyList<string> Applied, IReadOnlyList<string> AlreadyApplied);

/// <summary>
/// Applies the scripts in <c>sql/</c> once each, in order, each in its own transaction, and records
/// them in <c>schema_migrations</c>. A session advisory lock serializes silos that start together; an
/// applied script whose text has since changed stops the start-up instead of drifting silently.
/// </summary>
public sealed class MigrationRunner(NpgsqlDataSource dataSource, ILogger<MigrationRunner> logger)
{
    // Any constant works; it only has to be the same for every process that migrates this database.
    private const long AdvisoryLockKey = 0x0b1ec7a1_0001;

    public static IReadOnlyList<Migration> Embedded { get; } = LoadEmbedded();

    public Task<MigrationResult> ApplyAsync(CancellationToken cancellationToken = default) =>
        ApplyAsync(Embedded, cancellationToken);

    public async Task<MigrationResult> ApplyAsync(IReadOnlyList<Migration> migrations, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(@key)", new { key = AdvisoryLockKey }, cancellationToken: cancellationToken));
        try
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version     text        PRIMARY KEY,
                    name        text        NOT NULL,
                    checksum    text        NOT NULL,
                    applied_at  timestamptz NOT NULL DEFAULT now())
                """, cancellationToken: cancellationToken));

            var recorded = (await connection.QueryAsync<(string Version, string Checksum)>(
                new CommandDefinition("SELECT version, checksum FROM schema_migrations", cancellationToken: cancellationToken)))
                .ToDictionary(r => r.Version, r => r.Checksum, StringComparer.Ordinal);

            var applied = new List<string>();
            var skipped = new List<string>();
            foreach (var migration in migrations.OrderBy(m => m.Version, StringComparer.Ordinal))
            {
                if (recorded.TryGetValue(migration.Version, out var checksum))
                {
                    if (!string.Equals(checksum, migration.Checksum, StringComparison.Ordinal))
                    {
                        throw new InvalidOperationException(
                            $"Migration {migration.Version}_{migration.Name} was applied with checksum {checksum} but the script now hashes to {migration.Checksum}. Applied migrations must never be edited; add a new one.");
                    }
                    skipped.Add(migration.Version);
                    continue;
                }

                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await using (var command = new NpgsqlCommand(migration.Sql, connection, transaction))
                {
                    command.CommandTimeout = 300;
                    await command.ExecuteNonQueryAsync(cancellationToken);
                }
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (@Version, @Name, @Checksum)",
                    new { migration.Version, migration.Name, migration.Checksum }, transaction, cancellationToken: cancellationToken));
                await transaction.CommitAsync(cancellationToken);
                logger.LogInformation("Applied migration {Version} {Name}", migration.Version, migration.Name);
                applied.Add(migration.Version);
            }
            return new MigrationResult(applied, skipped);
        }
        finally
        {
            await connection.ExecuteAsync("SELECT pg_advisory_unlock(@key)", new { key = AdvisoryLockKey });
        }
    }

    private static List<Migration> LoadEmbedded()
    {
        var assembly = typeof(MigrationRunner).Assembly;
        var list = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("sql/", StringComparison.Ordinal)))
        {
            var file = Path.GetFileNameWithoutExtension(resource["sql/".Length..]);
            var separator = file.IndexOf('_', StringComparison.Ordinal);
            if (separator <= 0)
            {
                throw new InvalidOperationException($"Migration file '{file}' must be named NNNN_description.sql.");
            }
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            list.Add(new Migration(file[..separator], file[(separator + 1)..], reader.ReadToEnd()));
        }
        list.Sort((a, b) => string.CompareOrdinal(a.Version, b.Version));
        return list;
    }
}
