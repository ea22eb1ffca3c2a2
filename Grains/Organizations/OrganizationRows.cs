using Dapper;
using Npgsql;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Organizations;

/// <summary>
/// The relational mirror of organizations and agents: the rows that examples, conversations, jobs
/// and models reference by foreign key. The organization grain is the only writer.
/// </summary>
public sealed class OrganizationRows(NpgsqlDataSource db)
{
    public async Task InsertOrganizationAsync(Guid id, string name, string plan, DateTimeOffset at)
    {
        await using var connection = await db.OpenConnectionAsync();
        await connection.ExecuteAsync(
            "INSERT INTO organizations (id, name, plan, created_at, updated_at) VALUES (@id, @name, @plan, @at, @at) ON CONFLICT (id) DO NOTHING",
            new { id, name, plan, at });
    }

    public async Task DeleteOrganizationAsync(Guid id)
    {
        await using var connection = await db.OpenConnectionAsync();
        await connection.ExecuteAsync("DELETE FROM organizations WHERE id = @id", new { id });
    }

    public async Task UpdateOrganizationAsync(Guid id, string name, string plan, DateTimeOffset at)
    {
        await using var connection = await db.OpenConnectionAsync();
        await connection.ExecuteAsync(
            "UPDATE organizations SET name = @name, plan = @plan, updated_at = @at WHERE id = @id",
            new { id, name, plan, at });
    }

    public async Task UpsertAgentAsync(Guid organizationId, Guid id, AgentState agent)
    {
        await using var connection = await db.OpenConnectionAsync();
        await connection.ExecuteAsync("""
            INSERT INTO agents (id, organization_id, name, default_base_model, created_at, updated_at, archived_at)
            VALUES (@id, @organizationId, @Name, @DefaultBaseModel, @CreatedAt, @UpdatedAt, @ArchivedAt)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, default_base_model = excluded.default_base_model,
                updated_at = excluded.updated_at, archived_at = excluded.archived_at
            WHERE agents.organization_id = excluded.organization_id
            """,
            new { id, organizationId, agent.Name, agent.DefaultBaseModel, agent.CreatedAt, agent.UpdatedAt, agent.ArchivedAt });
    }

    /// <summary>
    /// Changes the organization's plan row under the lock every example store takes: <paramref name="check"/> sees the
    /// example count no store can change meanwhile and may refuse; <paramref name="commitState"/> (the grain's state
    /// write) runs before the row's transaction commits, so a failed write leaves the row as it was. Stores read the
    /// plan from this row under the same lock, so a downgrade and an upload never pass each other.
    /// </summary>
    public async Task ChangePlanAsync(Guid id, string name, string plan, DateTimeOffset at, Func<int, ProblemException?> check, Func<Task> commitState)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await ObjectaLabs.Orleans.Examples.ExampleRows.LockAsync(connection, id);
        var examples = await ObjectaLabs.Orleans.Examples.ExampleRows.CountAsync(connection, id, transaction);
        if (check(examples) is { } problem)
        {
            throw problem;
        }
        await connection.ExecuteAsync(
            "UPDATE organizations SET name = @name, plan = @plan, updated_at = @at WHERE id = @id", new { id, name, plan, at }, transaction);
        await commitState();
        await transaction.CommitAsync();
    }

    public async Task<IReadOnlyList<OrganizationSummary>> ListAsync(DateTimeOffset? createdAfter, Guid? afterId, int limit)
    {
        await using var connection = await db.OpenConnectionAsync();
        var rows = await connection.QueryAsync<(Guid Id, string Name, string Plan, DateTime CreatedAt)>("""
            SELECT id, name, plan, created_at FROM organizations
            WHERE @createdAfter::timestamptz IS NULL OR (created_at, id) > (@createdAfter::timestamptz, @afterId::uuid)
            ORDER BY created_at, id
            LIMIT @limit
            """,
            new { createdAfter, afterId = afterId ?? Guid.Empty, limit });
        return rows.Select(r => new OrganizationSummary(r.Id, r.Name, r.Plan, new DateTimeOffset(r.CreatedAt, TimeSpan.Zero))).ToList();
    }
}
