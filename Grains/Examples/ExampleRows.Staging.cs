using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace ObjectaLabs.Orleans.Examples;

/// <summary>
/// The statements an upload runs on its own connection and transaction: a temporary staging table
/// the checked lines are COPYed into as they arrive, and the move from it into <c>training_examples</c>.
/// </summary>
public sealed partial class ExampleRows
{
    /// <summary>One staged line: the example as stored, with its id and the line it came from.</summary>
    public readonly record struct StagedExample(long Line, Guid Id, CheckedExample Example);

    /// <summary>
    /// Creates the session's staging table; it goes with the transaction (commit or rollback). The JSON is staged as
    /// text: every line was checked as strictly as <c>jsonb</c> would (no NUL, no unpaired surrogate), so the cast in
    /// <see cref="InsertStagedAsync"/> cannot fail, and a dry run, which never inserts, never pays for it. Rows stay
    /// uncompressed in line up to a page (<c>toast_tuple_target</c>): the table lives for one upload, and compressing
    /// each example on the way in cost a quarter of the staging.
    /// </summary>
    public static Task CreateStagingAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken = default) =>
        connection.ExecuteAsync(new CommandDefinition("""
            CREATE TEMP TABLE upload_staging (
                line bigint NOT NULL, id uuid NOT NULL, messages text, tools text, functions text,
                parallel_tool_calls boolean, content_hash bytea NOT NULL) WITH (toast_tuple_target = 8160) ON COMMIT DROP
            """, transaction: transaction, cancellationToken: cancellationToken));

    /// <summary>
    /// Binary COPY of checked lines into the staging table. <paramref name="hashesOnly"/> (a dry run, which never
    /// inserts) stages each line's content hash without its example: all that the duplicate and plan checks read.
    /// </summary>
    public static async Task StageAsync(NpgsqlConnection connection, IReadOnlyList<StagedExample> staged, bool hashesOnly, CancellationToken cancellationToken = default)
    {
        await using var importer = await connection.BeginBinaryImportAsync(
            "COPY upload_staging (line, id, messages, tools, functions, parallel_tool_calls, content_hash) FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach (var (line, id, example) in staged)
        {
            await importer.StartRowAsync(cancellationToken);
            await importer.WriteAsync(line, NpgsqlDbType.Bigint, cancellationToken);
            await importer.WriteAsync(id, NpgsqlDbType.Uuid, cancellationToken);
            if (hashesOnly)
            {
                await importer.WriteNullAsync(cancellationToken);
                await importer.WriteNullAsync(cancellationToken);
                await importer.WriteNullAsync(cancellationToken);
                await importer.WriteNullAsync(cancellationToken);
            }
            else
            {
                await importer.WriteAsync(example.Messages, NpgsqlDbType.Text, cancellationToken);
                await WriteNullableAsync(importer, example.Tools, NpgsqlDbType.Text, cancellationToken);
                await WriteNullableAsync(importer, example.Functions, NpgsqlDbType.Text, cancellationToken);
                await WriteNullableAsync(importer, example.ParallelToolCalls, NpgsqlDbType.Boolean, cancellationToken);
            }
            await importer.WriteAsync(example.ContentHash, NpgsqlDbType.Bytea, cancellationToken);
        }
        await importer.CompleteAsync(cancellationToken);
    }

    /// <summary>The staged lines whose example the organization already stores, in line order.</summary>
    public static async Task<IReadOnlyList<long>> StagedDuplicatesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid organizationId, CancellationToken cancellationToken = default) =>
        (await connection.QueryAsync<long>(new CommandDefinition("""
            SELECT s.line FROM upload_staging s
            WHERE EXISTS (SELECT 1 FROM training_examples t WHERE t.organization_id = @organizationId AND t.content_hash = s.content_hash)
            ORDER BY s.line
            """, new { organizationId }, transaction, cancellationToken: cancellationToken))).ToList();

    /// <summary>How many staged lines in a line range hold examples the organization does not store yet.</summary>
    public static Task<int> NewStagedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid organizationId, long fromLine, long toLine,
        CancellationToken cancellationToken = default) =>
        connection.ExecuteScalarAsync<int>(new CommandDefinition("""
            SELECT count(*)::int FROM upload_staging s
            WHERE s.line BETWEEN @fromLine AND @toLine
              AND NOT EXISTS (SELECT 1 FROM training_examples t WHERE t.organization_id = @organizationId AND t.content_hash = s.content_hash)
            """, new { organizationId, fromLine, toLine }, transaction, cancellationToken: cancellationToken));

    /// <summary>Moves the staged examples that are new to the organization into <c>training_examples</c>; answers how many.</summary>
    public static Task<int> InsertStagedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid organizationId, Guid uploadId,
        Guid? agentId, IReadOnlyList<string> tags, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO training_examples (id, organization_id, agent_id, messages, tools, functions, parallel_tool_calls, content_hash,
                                           source, upload_id, tags, created_at, updated_at)
            SELECT s.id, @organizationId, @agentId, s.messages::jsonb, s.tools::jsonb, s.functions::jsonb, s.parallel_tool_calls, s.content_hash,
                   'upload', @uploadId, @tags, @at, @at
            FROM upload_staging s
            WHERE NOT EXISTS (SELECT 1 FROM training_examples t WHERE t.organization_id = @organizationId AND t.content_hash = s.content_hash)
            """,
            new { organizationId, agentId, uploadId, tags = tags.ToArray(), at },
            transaction, commandTimeout: 600, cancellationToken: cancellationToken));
}
