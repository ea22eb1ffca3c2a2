using Dapper;
using Npgsql;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Examples;

/// <summary>What a bulk store did: how many rows went in and which content hashes were already stored.</summary>
public sealed record class BulkStoreResult(int Stored, IReadOnlySet<string> DuplicateHashes);

/// <summary>
/// The <c>training_examples</c> table through Dapper, and the only place that speaks SQL to it: this file
/// (single rows, bulk store, counts, list, stream), <c>ExampleRows.Copy.cs</c> (binary COPY),
/// <c>ExampleRows.List.cs</c> (the list page query) and <c>ExampleRows.Staging.cs</c> (uploads' staging
/// table). Every statement is scoped by organization id, so
/// one organization can never read, change or count another's examples. Writes that add examples take
/// the organization's transaction-scoped advisory lock, so plan limits and duplicate checks hold under
/// concurrent writers.
/// </summary>
public sealed partial class ExampleRows(NpgsqlDataSource db)
{
    public async Task<TrainingExample?> GetAsync(Guid organizationId, Guid id)
    {
        await using var connection = await db.OpenConnectionAsync();
        var row = await connection.QuerySingleOrDefaultAsync<ExampleRow>(
            $"SELECT {ExampleRow.Columns} FROM training_examples WHERE organization_id = @organizationId AND id = @id",
            new { organizationId, id });
        return row?.ToRecord();
    }

    /// <summary>Stores one example; a duplicate is a conflict and a full plan a plan-limit problem.</summary>
    public async Task<TrainingExample> InsertAsync(Guid organizationId, NewExampleRow row, ExampleLimitCheck checkLimit)
    {
        var result = await StoreAsync(organizationId, [row], checkLimit);
        if (result.Stored == 0)
        {
            throw ProblemException.Conflict("An identical example (same content hash) is already stored.", "example");
        }
        return (await GetAsync(organizationId, row.Id))!;
    }

    /// <summary>
    /// Stores many examples in one transaction with a binary COPY, skipping (and answering) those whose
    /// content hash is already stored. <paramref name="checkLimit"/> gets the count the organization holds and how many
    /// would be added, and may refuse with a problem, which stores nothing.
    /// </summary>
    public async Task<BulkStoreResult> StoreAsync(Guid organizationId, IReadOnlyList<NewExampleRow> rows, ExampleLimitCheck checkLimit, CancellationToken cancellationToken = default)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockAsync(connection, organizationId, cancellationToken);
        var hashes = rows.Select(r => r.Example.ContentHash).ToArray();
        var existing = (await connection.QueryAsync<byte[]>(new CommandDefinition(
            "SELECT content_hash FROM training_examples WHERE organization_id = @organizationId AND content_hash = ANY(@hashes)",
            new { organizationId, hashes }, transaction, cancellationToken: cancellationToken)))
            .Select(Convert.ToHexString).ToHashSet(StringComparer.Ordinal);
        var imported = await ImportedPartsAsync(connection, organizationId, rows, transaction, cancellationToken);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var fresh = rows.Where(r =>
        {
            var h = Convert.ToHexString(r.Example.ContentHash);
            return !existing.Contains(h) && seen.Add(h)
                && !(r.ConversationId is { } c && imported.Contains((c, r.ConversationPart ?? -1)));
        }).ToList();
        var current = await CountAsync(connection, organizationId, transaction, cancellationToken);
        if (fresh.Count > 0 && checkLimit(current, fresh.Count, await PlanInForceAsync(connection, transaction, organizationId, cancellationToken)) is { } problem)
        {
            throw problem;
        }
        var stored = await CopyAsync(connection, organizationId, fresh, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new BulkStoreResult(stored, existing);
    }

    /// <summary>The (conversation, part) pairs among the rows that an earlier import already stored.</summary>
    private static async Task<HashSet<(Guid, int)>> ImportedPartsAsync(NpgsqlConnection connection, Guid organizationId, IReadOnlyList<NewExampleRow> rows, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var conversations = rows.Where(r => r.ConversationId is not null).Select(r => r.ConversationId!.Value).Distinct().ToArray();
        if (conversations.Length == 0)
        {
            return [];
        }
        var parts = await connection.QueryAsync<(Guid, int)>(new CommandDefinition("""
            SELECT conversation_id, conversation_part FROM training_examples
            WHERE organization_id = @organizationId AND conversation_id = ANY(@conversations)
            """, new { organizationId, conversations }, transaction, cancellationToken: cancellationToken));
        return parts.ToHashSet();
    }

    public static Task LockAsync(NpgsqlConnection connection, Guid organizationId, CancellationToken cancellationToken = default) =>
        connection.ExecuteAsync(new CommandDefinition(
            "SELECT pg_advisory_xact_lock(hashtextextended(@key, 0))",
            new { key = $"training_examples:{organizationId}" }, cancellationToken: cancellationToken));

    /// <summary>The plan the organization's row names (null without a row): read under the lock, it is the one in force.</summary>
    public static Task<string?> PlanInForceAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid organizationId, CancellationToken cancellationToken = default) =>
        connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT plan FROM organizations WHERE id = @organizationId", new { organizationId }, transaction, cancellationToken: cancellationToken));

    public static Task<int> CountAsync(NpgsqlConnection connection, Guid organizationId, NpgsqlTransaction? transaction = null, CancellationToken cancellationToken = default) =>
        connection.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT count(*)::int FROM training_examples WHERE organization_id = @organizationId",
            new { organizationId }, transaction, cancellationToken: cancellationToken));

    /// <summary>Replaces an example's content (clearing its validation) and/or its tags and notes.</summary>
    public async Task<TrainingExample?> UpdateAsync(Guid organizationId, Guid id, CheckedExample? content, IReadOnlyList<string>? tags, string? notes, DateTimeOffset at)
    {
        await using var connection = await db.OpenConnectionAsync();
        try
        {
            var row = await connection.QuerySingleOrDefaultAsync<ExampleRow>($"""
                UPDATE training_examples SET
                    messages = coalesce(@messages::jsonb, messages),
                    tools = CASE WHEN @changed THEN @tools::jsonb ELSE tools END,
                    functions = CASE WHEN @changed THEN @functions::jsonb ELSE functions END,
                    parallel_tool_calls = CASE WHEN @changed THEN @parallel ELSE parallel_tool_calls END,
                    content_hash = coalesce(@hash, content_hash),
                    tags = coalesce(@tags, tags),
                    notes = coalesce(@notes, notes),
                    is_validated = is_validated AND NOT @changed,
                    validated_by = CASE WHEN @changed THEN NULL ELSE validated_by END,
                    validated_at = CASE WHEN @changed THEN NULL ELSE validated_at END,
                    quality_score = CASE WHEN @changed THEN NULL ELSE quality_score END,
                    updated_at = @at
                WHERE organization_id = @organizationId AND id = @id
                RETURNING {ExampleRow.Columns}
                """,
                new
                {
                    organizationId,
                    id,
                    at,
                    changed = content is not null,
                    messages = content?.Messages,
                    tools = content?.Tools,
                    functions = content?.Functions,
                    parallel = content?.ParallelToolCalls,
                    hash = content?.ContentHash,
                    tags = tags?.ToArray(),
                    notes,
                });
            return row?.ToRecord();
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw ProblemException.Conflict("The edited example is identical (same content hash) to another stored example.", "example");
        }
    }

    public async Task<bool> DeleteAsync(Guid organizationId, Guid id)
    {
        await using var connection = await db.OpenConnectionAsync();
        return await connection.ExecuteAsync("DELETE FROM training_examples WHERE organization_id = @organizationId AND id = @id", new { organizationId, id }) == 1;
    }

    /// <summary>Marks examples validated; answers the ids that belonged to the organization (and so were validated).</summary>
    public async Task<IReadOnlyList<Guid>> ValidateAsync(Guid organizationId, IReadOnlyList<Guid> ids, string validatedBy, decimal qualityScore, DateTimeOffset at)
    {
        await using var connection = await db.OpenConnectionAsync();
        return (await connection.QueryAsync<Guid>("""
            UPDATE training_examples SET is_validated = true, validated_by = @validatedBy, validated_at = @at, quality_score = @qualityScore, updated_at = @at
            WHERE organization_id = @organizationId AND id = ANY(@ids)
            RETURNING id
            """,
            new { organizationId, ids = ids.Distinct().ToArray(), validatedBy, qualityScore, at })).ToList();
    }

    public async Task<ExamplePage> ListAsync(Guid organizationId, ExampleListRequest request)
    {
        var query = ExampleListQuery.Build(organizationId, request);
        await using var connection = await db.OpenConnectionAsync();
        var rows = (await connection.QueryAsync<ExampleRow>(query.Sql, query.Parameters)).ToList();
        var counts = await connection.QuerySingleAsync<(int Validated, int Pending)>(query.CountSql, query.Parameters);
        var more = rows.Count > query.Limit;
        if (more)
        {
            rows.RemoveAt(rows.Count - 1);
        }
        var next = more ? ExampleListQuery.Cursor(request.Sort, rows[^1]) : null;
        return new ExamplePage(rows.Select(r => r.ToRecord()).ToList(), next, new ExampleCounts(counts.Validated, counts.Pending));
    }

    /// <summary>Streams the organization's examples (optionally one agent's, optionally validated only), oldest first.</summary>
    public async IAsyncEnumerable<TrainingExample> StreamAsync(Guid organizationId, Guid? agentId, bool validatedOnly,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var reader = await connection.ExecuteReaderAsync(new CommandDefinition($"""
            SELECT {ExampleRow.Columns} FROM training_examples
            WHERE organization_id = @organizationId
              AND (@agentId::uuid IS NULL OR agent_id = @agentId)
              AND (NOT @validatedOnly OR is_validated)
            ORDER BY created_at, id
            """, new { organizationId, agentId, validatedOnly }, cancellationToken: cancellationToken, flags: CommandFlags.None));
        var parser = reader.GetRowParser<ExampleRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return parser(reader).ToRecord();
        }
    }

    /// <summary>The ids of the organization's validated examples (optionally one agent's): what a split ranks.</summary>
    public async Task<IReadOnlyList<Guid>> ValidatedIdsAsync(Guid organizationId, Guid? agentId)
    {
        await using var connection = await db.OpenConnectionAsync();
        return (await connection.QueryAsync<Guid>("""
            SELECT id FROM training_examples
            WHERE organization_id = @organizationId AND is_validated AND (@agentId::uuid IS NULL OR agent_id = @agentId)
            """, new { organizationId, agentId })).ToList();
    }
}
