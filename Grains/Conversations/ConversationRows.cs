using System.Text.Json;
using Dapper;
using Npgsql;
using ObjectaLabs.Orleans.Plans;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Conversations;

/// <summary>One conversation with its messages in order, as the import reads it.</summary>
public sealed record class StoredConversation(Guid Id, Guid AgentId, List<ConversationMessage> Messages);

/// <summary>The <c>conversations</c> and <c>conversation_messages</c> tables, always scoped by organization.</summary>
public sealed class ConversationRows(NpgsqlDataSource db)
{
    /// <summary>
    /// Stores a conversation once (by external id), refused for an agent of another organization or an archived
    /// one, and within the plan's conversation quota, which is counted in the same transaction.
    /// </summary>
    public async Task<ConversationRecorded> InsertAsync(Guid organizationId, Guid id, NewConversation c, PlanDefinition plan)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var agent = await connection.QuerySingleOrDefaultAsync<(Guid Id, DateTime? ArchivedAt)?>(
            "SELECT id, archived_at FROM agents WHERE organization_id = @organizationId AND id = @AgentId", new { organizationId, c.AgentId }, transaction);
        if (agent is null)
        {
            throw ProblemException.Invalid("agentId", $"Agent '{c.AgentId}' does not belong to this organization.");
        }
        if (agent.Value.ArchivedAt is not null)
        {
            throw ProblemException.Conflict($"Agent '{c.AgentId}' is archived and takes no new conversations.", "agentId");
        }
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
        await CountAgainstQuotaAsync(connection, transaction, organizationId, ConversationSize.Of(c), plan);
        await connection.ExecuteAsync("""
            INSERT INTO conversation_messages (conversation_id, position, role, content, name, tool_calls, tool_call_id)
            VALUES (@id, @Position, @Role, @Content, @Name, @ToolCalls::jsonb, @ToolCallId)
            """,
            c.Messages.Select((m, i) => new { id, Position = i, m.Role, m.Content, m.Name, m.ToolCalls, m.ToolCallId }), transaction);
        await transaction.CommitAsync();
        return new ConversationRecorded(id, Created: true);
    }

    /// <summary>Adds one conversation of <paramref name="bytes"/> to the organization's usage, or refuses if the plan's quota would be passed.</summary>
    private static async Task CountAgainstQuotaAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid organizationId, long bytes, PlanDefinition plan)
    {
        var counted = await connection.ExecuteScalarAsync<long?>("""
            INSERT INTO organization_conversation_usage (organization_id) VALUES (@organizationId) ON CONFLICT DO NOTHING;
            UPDATE organization_conversation_usage SET conversations = conversations + 1, bytes = bytes + @bytes
            WHERE organization_id = @organizationId
              AND (@maxConversations::bigint IS NULL OR conversations + 1 <= @maxConversations)
              AND (@maxBytes::bigint IS NULL OR bytes + @bytes <= @maxBytes)
            RETURNING conversations;
            """,
            new { organizationId, bytes, maxConversations = plan.MaxConversations, maxBytes = plan.MaxConversationBytes }, transaction);
        if (counted is not null)
        {
            return;
        }
        var (conversations, stored) = await connection.QuerySingleAsync<(long, long)>(
            "SELECT conversations, bytes FROM organization_conversation_usage WHERE organization_id = @organizationId", new { organizationId }, transaction);
        throw plan.MaxConversations is { } max && conversations + 1 > max
            ? PlanLimits.Exceeded(plan, "maxConversations", max, conversations, 1,
                $"The organization stores {conversations} conversations; plan '{plan.Name}' allows {max}. Import or delete older ones, or move to a larger plan.")
            : PlanLimits.Exceeded(plan, "maxConversationBytes", plan.MaxConversationBytes!.Value, stored, bytes,
                $"The organization stores {stored} bytes of conversations and this one has {bytes}; plan '{plan.Name}' allows {plan.MaxConversationBytes}.");
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
