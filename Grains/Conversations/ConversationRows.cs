using System.Text.Json;
using Dapper;
using Npgsql;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Conversations;

/// <summary>One conversation with its messages in order, as the import reads it.</summary>
public sealed record class StoredConversation(Guid Id, Guid AgentId, List<ConversationMessage> Messages);

/// <summary>The <c>conversations</c> and <c>conversation_messages</c> tables, always scoped by organization.</summary>
public sealed class ConversationRows(NpgsqlDataSource db)
{
    public async Task<ConversationRecorded> InsertAsync(Guid organizationId, Guid id, NewConversation c)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        Guid? inserted;
        try
        {
            inserted = await connection.ExecuteScalarAsync<Guid?>("""
                INSERT INTO conversations (id, organization_id, agent_id, external_id, rating, metadata, started_at, ended_at)
                VALUES (@id, @organizationId, @AgentId, @ExternalId, @Rating, @metadata::jsonb, @startedAt, @endedAt)
                ON CONFLICT (organization_id, external_id) WHERE external_id IS NOT NULL DO NOTHING
                RETURNING id
                """,
                new
                {
                    id,
                    organizationId,
                    c.AgentId,
                    c.ExternalId,
                    Rating = (short?)c.Rating,
                    metadata = JsonSerializer.Serialize(c.Metadata ?? new Dictionary<string, string>()),
                    startedAt = c.StartedAt?.ToUniversalTime(),
                    endedAt = c.EndedAt.ToUniversalTime(),
                }, transaction);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            throw ProblemException.Invalid("agentId", $"Agent '{c.AgentId}' does not belong to this organization.");
        }
        if (inserted is null)
        {
            var existing = await connection.ExecuteScalarAsync<Guid>(
                "SELECT id FROM conversations WHERE organization_id = @organizationId AND external_id = @ExternalId",
                new { organizationId, c.ExternalId }, transaction);
            await transaction.CommitAsync();
            return new ConversationRecorded(existing, Created: false);
        }
        await connection.ExecuteAsync("""
            INSERT INTO conversation_messages (conversation_id, position, role, content, name, tool_calls, tool_call_id)
            VALUES (@id, @Position, @Role, @Content, @Name, @ToolCalls::jsonb, @ToolCallId)
            """,
            c.Messages.Select((m, i) => new { id, Position = i, m.Role, m.Content, m.Name, m.ToolCalls, m.ToolCallId }), transaction);
        await transaction.CommitAsync();
        return new ConversationRecorded(id, Created: true);
    }

    /// <summary>The conversations matching the import filters, oldest first, streamed.</summary>
    public async IAsyncEnumerable<StoredConversation> MatchingAsync(Guid organizationId, ConversationImportRequest r)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var reader = await connection.ExecuteReaderAsync("""
            SELECT c.id AS Id, c.agent_id AS AgentId, m.role AS Role, m.content AS Content, m.name AS Name,
                   m.tool_calls::text AS ToolCalls, m.tool_call_id AS ToolCallId
            FROM conversations c JOIN conversation_messages m ON m.conversation_id = c.id
            WHERE c.organization_id = @organizationId
              AND (@agentId::uuid IS NULL OR c.agent_id = @agentId)
              AND (@minRating::int IS NULL OR c.rating >= @minRating)
              AND (@from::timestamptz IS NULL OR c.ended_at >= @from)
              AND (@to::timestamptz IS NULL OR c.ended_at < @to)
            ORDER BY c.ended_at, c.id, m.position
            """,
            new { organizationId, agentId = r.AgentId, minRating = r.MinRating, from = r.EndedFrom?.ToUniversalTime(), to = r.EndedTo?.ToUniversalTime() });
        var parser = reader.GetRowParser<MessageRow>();
        StoredConversation? current = null;
        while (await reader.ReadAsync())
        {
            var row = parser(reader);
            if (current is null || current.Id != row.Id)
            {
                if (current is not null)
                {
                    yield return current;
                }
                current = new StoredConversation(row.Id, row.AgentId, []);
            }
            current.Messages.Add(new ConversationMessage(row.Role, row.Content, row.Name, row.ToolCalls, row.ToolCallId));
        }
        if (current is not null)
        {
            yield return current;
        }
    }

    private sealed class MessageRow
    {
        public Guid Id { get; set; }
        public Guid AgentId { get; set; }
        public string Role { get; set; } = "";
        public string? Content { get; set; }
        public string? Name { get; set; }
        public string? ToolCalls { get; set; }
        public string? ToolCallId { get; set; }
    }
}
