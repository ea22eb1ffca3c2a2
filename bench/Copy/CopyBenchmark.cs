using System.Diagnostics;
using Dapper;
using Npgsql;
using NpgsqlTypes;
using ObjectaLabs.Orleans.Bench.Data;
using ObjectaLabs.Orleans.Bench.Postgres;
using ObjectaLabs.Orleans.Examples;

namespace ObjectaLabs.Orleans.Bench.Copy;

/// <summary>
/// Storing validated examples through <see cref="ExampleRows.StoreAsync"/> (organization lock,
/// duplicate lookup, plan-limit count, binary COPY, one transaction) against a raw binary COPY of the
/// same rows into the same table. Each round starts from an empty table, alternating the two.
/// </summary>
public static class CopyBenchmark
{
    private const int Rounds = 3;

    public static async Task<BenchResult> RunAsync(int count)
    {
        var folder = Directory.CreateTempSubdirectory("objectalabs-bench-copy-");
        try
        {
            var file = ExampleFile.Write(Path.Combine(folder.FullName, "train.jsonl"), count);
            var now = DateTimeOffset.UtcNow;
            var rows = File.ReadLines(file).Select(line => new NewExampleRow(Guid.CreateVersion7(now), null,
                CheckedExample.Check(line, 0, [], null)!, ExampleSource.Upload, ["bench"], now, ValidatedBy: "bench", QualityScore: 0.9m)).ToList();
            Console.WriteLine($"rows: {rows.Count} validated examples, {rows.Sum(r => r.Example.Messages.Length) / 1e6:F1} MB of messages JSON");
            await using var pg = await PrivatePostgres.StartAsync();
            var store = new ExampleRows(pg.DataSource);
            var org = Guid.NewGuid();
            await using (var connection = await pg.DataSource.OpenConnectionAsync())
            {
                await connection.ExecuteAsync("INSERT INTO organizations (id, name, plan) VALUES (@org, 'bench', 'enterprise')", new { org });
            }

            double ours = 0, raw = 0;
            for (var round = 0; round <= Rounds; round++)
            {
                await TruncateAsync(pg.DataSource);
                var watch = Stopwatch.StartNew();
                var result = await store.StoreAsync(org, rows, ExampleLimits.None);
                var oursSeconds = watch.Elapsed.TotalSeconds;
                if (result.Stored != rows.Count)
                {
                    throw new InvalidOperationException($"Stored {result.Stored} of {rows.Count}.");
                }
                await TruncateAsync(pg.DataSource);
                watch.Restart();
                await RawCopyAsync(pg.DataSource, org, rows);
                var rawSeconds = watch.Elapsed.TotalSeconds;
                if (round > 0) // round 0 warms up
                {
                    ours = Math.Max(ours, rows.Count / oursSeconds);
                    raw = Math.Max(raw, rows.Count / rawSeconds);
                }
                Console.WriteLine($"round {round}: ours {oursSeconds:F2} s, raw COPY {rawSeconds:F2} s");
            }
            return new BenchResult("copy", ours, raw, "examples");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static async Task TruncateAsync(NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        // The few-shot vectors reference the examples (there are none here).
        await connection.ExecuteAsync("TRUNCATE training_examples, example_embeddings");
        await connection.ExecuteAsync("VACUUM ANALYZE training_examples");
    }

    /// <summary>The floor: the same rows and columns, one binary COPY, no checks.</summary>
    private static async Task RawCopyAsync(NpgsqlDataSource db, Guid org, List<NewExampleRow> rows)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var importer = await connection.BeginBinaryImportAsync("""
            COPY training_examples (id, organization_id, agent_id, messages, tools, functions, parallel_tool_calls, content_hash,
                source, upload_id, conversation_id, conversation_part, tags, notes, is_validated, validated_by, validated_at,
                quality_score, created_at, updated_at) FROM STDIN (FORMAT BINARY)
            """);
        foreach (var row in rows)
        {
            await importer.StartRowAsync();
            await importer.WriteAsync(row.Id, NpgsqlDbType.Uuid);
            await importer.WriteAsync(org, NpgsqlDbType.Uuid);
            await importer.WriteNullAsync();
            await importer.WriteAsync(row.Example.Messages, NpgsqlDbType.Jsonb);
            await (row.Example.Tools is { } tools ? importer.WriteAsync(tools, NpgsqlDbType.Jsonb) : importer.WriteNullAsync());
            await importer.WriteNullAsync();
            await importer.WriteNullAsync();
            await importer.WriteAsync(row.Example.ContentHash, NpgsqlDbType.Bytea);
            await importer.WriteAsync("upload", NpgsqlDbType.Text);
            await importer.WriteNullAsync();
            await importer.WriteNullAsync();
            await importer.WriteNullAsync();
            await importer.WriteAsync(new[] { "bench" }, NpgsqlDbType.Array | NpgsqlDbType.Text);
            await importer.WriteNullAsync();
            await importer.WriteAsync(true, NpgsqlDbType.Boolean);
            await importer.WriteAsync("bench", NpgsqlDbType.Text);
            await importer.WriteAsync(row.CreatedAt, NpgsqlDbType.TimestampTz);
            await importer.WriteAsync(0.9m, NpgsqlDbType.Numeric);
            await importer.WriteAsync(row.CreatedAt, NpgsqlDbType.TimestampTz);
            await importer.WriteAsync(row.CreatedAt, NpgsqlDbType.TimestampTz);
        }
        await importer.CompleteAsync();
    }
}
