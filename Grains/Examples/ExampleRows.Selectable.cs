using Dapper;
using ObjectaLabs.Orleans.FewShot;

namespace ObjectaLabs.Orleans.Examples;

public sealed partial class ExampleRows
{
    /// <summary>
    /// The organization's validated examples as few-shot selection reads them (all of them, or those of
    /// <paramref name="ids"/> that are validated), streamed.
    /// </summary>
    public async IAsyncEnumerable<SelectableRow> SelectableAsync(Guid organizationId, IReadOnlyCollection<Guid>? ids,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var reader = await connection.ExecuteReaderAsync(new CommandDefinition("""
            SELECT id AS Id, agent_id AS AgentId, messages::text AS Messages, tags AS Tags, updated_at AS UpdatedAt
            FROM training_examples
            WHERE organization_id = @organizationId AND is_validated AND (@ids::uuid[] IS NULL OR id = ANY(@ids))
            """, new { organizationId, ids = ids?.ToArray() }, cancellationToken: cancellationToken));
        var parser = reader.GetRowParser<SelectableRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return parser(reader);
        }
    }

    /// <summary>How many validated examples the organization has and their latest change: what an index in memory is checked against.</summary>
    public async Task<(int Count, DateTime? LatestChange)> SelectableFingerprintAsync(Guid organizationId)
    {
        await using var connection = await db.OpenConnectionAsync();
        return await connection.QuerySingleAsync<(int, DateTime?)>(
            "SELECT count(*)::int, max(updated_at) FROM training_examples WHERE organization_id = @organizationId AND is_validated",
            new { organizationId });
    }
}
