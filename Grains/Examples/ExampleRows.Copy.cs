using Npgsql;
using NpgsqlTypes;

namespace ObjectaLabs.Orleans.Examples;

public sealed partial class ExampleRows
{
    /// <summary>Binary COPY of example rows straight into <c>training_examples</c>.</summary>
    public const string CopyCommand = """
        COPY training_examples (id, organization_id, agent_id, messages, tools, functions, parallel_tool_calls, content_hash,
            source, upload_id, conversation_id, conversation_part, tags, notes, is_validated, validated_by, validated_at,
            quality_score, created_at, updated_at)
        FROM STDIN (FORMAT BINARY)
        """;

    public static async Task<int> CopyAsync(NpgsqlConnection connection, Guid organizationId, IEnumerable<NewExampleRow> rows, CancellationToken cancellationToken = default)
    {
        var count = 0;
        await using var importer = await connection.BeginBinaryImportAsync(CopyCommand, cancellationToken);
        foreach (var row in rows)
        {
            await importer.StartRowAsync(cancellationToken);
            await importer.WriteAsync(row.Id, NpgsqlDbType.Uuid, cancellationToken);
            await importer.WriteAsync(organizationId, NpgsqlDbType.Uuid, cancellationToken);
            await WriteNullableAsync(importer, row.AgentId, NpgsqlDbType.Uuid, cancellationToken);
            await importer.WriteAsync(row.Example.Messages, NpgsqlDbType.Jsonb, cancellationToken);
            await WriteNullableAsync(importer, row.Example.Tools, NpgsqlDbType.Jsonb, cancellationToken);
            await WriteNullableAsync(importer, row.Example.Functions, NpgsqlDbType.Jsonb, cancellationToken);
            await WriteNullableAsync(importer, row.Example.ParallelToolCalls, NpgsqlDbType.Boolean, cancellationToken);
            await importer.WriteAsync(row.Example.ContentHash, NpgsqlDbType.Bytea, cancellationToken);
            await importer.WriteAsync(SourceNames.Of(row.Source), NpgsqlDbType.Text, cancellationToken);
            await WriteNullableAsync(importer, row.UploadId, NpgsqlDbType.Uuid, cancellationToken);
            await WriteNullableAsync(importer, row.ConversationId, NpgsqlDbType.Uuid, cancellationToken);
            await WriteNullableAsync(importer, row.ConversationPart, NpgsqlDbType.Integer, cancellationToken);
            await importer.WriteAsync(row.Tags as string[] ?? [.. row.Tags], NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken);
            await WriteNullableAsync(importer, row.Notes, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(row.ValidatedBy is not null, NpgsqlDbType.Boolean, cancellationToken);
            await WriteNullableAsync(importer, row.ValidatedBy, NpgsqlDbType.Text, cancellationToken);
            await WriteNullableAsync(importer, row.ValidatedBy is null ? (DateTimeOffset?)null : row.CreatedAt.ToUniversalTime(), NpgsqlDbType.TimestampTz, cancellationToken);
            await WriteNullableAsync(importer, row.QualityScore, NpgsqlDbType.Numeric, cancellationToken);
            await importer.WriteAsync(row.CreatedAt.ToUniversalTime(), NpgsqlDbType.TimestampTz, cancellationToken);
            await importer.WriteAsync(row.CreatedAt.ToUniversalTime(), NpgsqlDbType.TimestampTz, cancellationToken);
            count++;
        }
        await importer.CompleteAsync(cancellationToken);
        return count;
    }

    private static Task WriteNullableAsync<T>(NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type, CancellationToken cancellationToken) where T : struct =>
        value is { } v ? importer.WriteAsync(v, type, cancellationToken) : importer.WriteNullAsync(cancellationToken);

    private static Task WriteNullableAsync(NpgsqlBinaryImporter importer, string? value, NpgsqlDbType type, CancellationToken cancellationToken) =>
        value is not null ? importer.WriteAsync(value, type, cancellationToken) : importer.WriteNullAsync(cancellationToken);
}
