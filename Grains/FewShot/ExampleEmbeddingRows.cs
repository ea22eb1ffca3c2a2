using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace ObjectaLabs.Orleans.FewShot;

/// <summary>
/// The embedding mode's stored vectors (<c>example_embeddings</c>), per organization and model: read when an index first
/// needs vectors, written for the questions it embedded, so nothing is embedded twice across activations and silos.
/// </summary>
public sealed class ExampleEmbeddingRows(NpgsqlDataSource db)
{
    public static byte[] HashOf(string question) => SHA256.HashData(Encoding.UTF8.GetBytes(question));

    /// <summary>The organization's stored vectors for <paramref name="model"/>, by example id, with the hash of the question each was taken from.</summary>
    public async Task<Dictionary<Guid, (byte[] QuestionSha256, float[] Vector)>> LoadAsync(Guid organizationId, string model)
    {
        await using var connection = await db.OpenConnectionAsync();
        var rows = await connection.QueryAsync<(Guid ExampleId, byte[] QuestionSha256, float[] Vector)>(
            "SELECT example_id, question_sha256, vector FROM example_embeddings WHERE organization_id = @organizationId AND model = @model",
            new { organizationId, model });
        return rows.ToDictionary(r => r.ExampleId, r => (r.QuestionSha256, r.Vector));
    }

    /// <summary>Stores (or replaces) vectors; an example deleted meanwhile is skipped (its row would have no example).</summary>
    public async Task SaveAsync(Guid organizationId, string model, IReadOnlyList<(Guid ExampleId, string Question, float[] Vector)> vectors)
    {
        if (vectors.Count == 0)
        {
            return;
        }
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("CREATE TEMP TABLE new_embeddings (example_id uuid, question_sha256 bytea, vector real[]) ON COMMIT DROP", transaction: transaction);
        await using (var import = await connection.BeginBinaryImportAsync("COPY new_embeddings (example_id, question_sha256, vector) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var (exampleId, question, vector) in vectors)
            {
                await import.StartRowAsync();
                await import.WriteAsync(exampleId, NpgsqlDbType.Uuid);
                await import.WriteAsync(HashOf(question), NpgsqlDbType.Bytea);
                await import.WriteAsync(vector, NpgsqlDbType.Array | NpgsqlDbType.Real);
            }
            await import.CompleteAsync();
        }
        await connection.ExecuteAsync("""
            INSERT INTO example_embeddings (organization_id, example_id, model, question_sha256, vector)
            SELECT @organizationId, n.example_id, @model, n.question_sha256, n.vector
            FROM new_embeddings n
            WHERE EXISTS (SELECT 1 FROM training_examples t WHERE t.organization_id = @organizationId AND t.id = n.example_id)
            ON CONFLICT (organization_id, model, example_id) DO UPDATE SET question_sha256 = excluded.question_sha256, vector = excluded.vector
            """, new { organizationId, model }, transaction);
        await transaction.CommitAsync();
    }
}
