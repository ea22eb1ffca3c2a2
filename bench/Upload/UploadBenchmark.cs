using System.Diagnostics;
using System.Text.Json;
using Dapper;
using Microsoft.ML.Tokenizers;
using ObjectaLabs.Orleans.Bench.Data;
using ObjectaLabs.Orleans.Bench.Postgres;
using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Hosting;
using ObjectaLabs.Orleans.Tokens;
using ObjectaLabs.Orleans.Uploads;

namespace ObjectaLabs.Orleans.Bench.Upload;

/// <summary>
/// Upload validation with token counting, through the real path (file stream → JsonlChunker →
/// UploadSession: parse, validate, canonicalize, hash, count tokens), against the floor of only
/// counting the tokens of the same strings with the same number of threads (so the upload gets every core here,
/// where a silo gives one upload half of them: Uploads:MaxParallelismPerUpload). The full upload with
/// staging and storing is measured too and printed before the result line.
/// </summary>
public static class UploadBenchmark
{
    private const string Model = "openai/gpt-4o-mini-2024-07-18";
    private const int Rounds = 3;

    /// <summary>The floor counts on every core, so the upload measured against it may use every core too.</summary>
    private static readonly UploadSettings AllCores = new() { MaxParallelismPerUpload = Environment.ProcessorCount };

    public static async Task<BenchResult> RunAsync(int count)
    {
        var folder = Directory.CreateTempSubdirectory("objectalabs-bench-upload-");
        try
        {
            var file = ExampleFile.Write(Path.Combine(folder.FullName, "train.jsonl"), count);
            Console.WriteLine($"file: {count} examples, {new FileInfo(file).Length / 1e6:F1} MB, {Environment.ProcessorCount} threads");
            var catalog = BaseModelCatalog.Load(DataFile.DefaultPath("models.json"));
            var tokenizers = new TokenizerCache();
            var tokenizer = tokenizers.Get(catalog.Get(Model).Tokenizer);
            var texts = Texts(file);

            // A dry run checks duplicates against stored examples, so it needs the database too, and
            // it inserts the rows (then rolls back), so their organization must exist.
            await using var pg = await PrivatePostgres.StartAsync();
            // The uploads' own pool, as a silo opens it (its per-connection settings included).
            await using var uploads = new UploadDataSource(pg.ConnectionString, Microsoft.Extensions.Options.Options.Create(AllCores));
            var org = await NewOrganizationAsync(pg);
            // Warm-up (JIT, tokenizer vocabulary), then alternate the two so background load hits both.
            await OursAsync(uploads, org, file, catalog, tokenizers, count: Math.Max(1, count / 10));
            Floor(tokenizer, texts);
            double ours = 0, floor = 0;
            for (var round = 0; round < Rounds; round++)
            {
                ours = Math.Max(ours, count / await OursAsync(uploads, org, file, catalog, tokenizers, count));
                floor = Math.Max(floor, count / Floor(tokenizer, texts));
            }

            var stored = count / await StoreAsync(pg, uploads, file, catalog, tokenizers);
            Console.WriteLine($"full upload with staging and storing (all-or-nothing): {stored:F0} examples/s");
            return new BenchResult("upload", ours, floor, "examples");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>Seconds for a dry-run upload of the file: everything the upload does before it touches the database.</summary>
    private static async Task<double> OursAsync(UploadDataSource uploads, Guid org, string file, BaseModelCatalog catalog, TokenizerCache tokenizers, int count)
    {
        var watch = Stopwatch.StartNew();
        await using var session = await UploadSession.StartAsync(uploads.DataSource, catalog, tokenizers, org, Guid.NewGuid(), new UploadOptions(BaseModel: Model, DryRun: true), AllCores, DateTimeOffset.UtcNow);
        await using var stream = File.OpenRead(file);
        long lines = 0;
        await foreach (var chunk in JsonlChunker.ReadAsync(stream))
        {
            lines += (await session.AppendAsync(chunk)).ValidLines;
            if (lines >= count)
            {
                break;
            }
        }
        var report = await session.CompleteAsync(ExampleLimits.None);
        if (report.InvalidLines > 0)
        {
            throw new InvalidOperationException("The benchmark file should be valid.");
        }
        return watch.Elapsed.TotalSeconds;
    }

    private static async Task<double> StoreAsync(PrivatePostgres pg, UploadDataSource uploads, string file, BaseModelCatalog catalog, TokenizerCache tokenizers)
    {
        var org = await NewOrganizationAsync(pg);
        var watch = Stopwatch.StartNew();
        var session = await UploadSession.StartAsync(uploads.DataSource, catalog, tokenizers, org, Guid.NewGuid(), new UploadOptions(BaseModel: Model), AllCores, DateTimeOffset.UtcNow);
        await using var stream = File.OpenRead(file);
        await foreach (var chunk in JsonlChunker.ReadAsync(stream))
        {
            await session.AppendAsync(chunk);
        }
        var report = await session.CompleteAsync(ExampleLimits.None);
        Console.WriteLine($"stored {report.StoredExamples} examples, {report.TotalTokens} tokens");
        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>An Enterprise organization (no example limit) with no examples yet.</summary>
    private static async Task<Guid> NewOrganizationAsync(PrivatePostgres pg)
    {
        var org = Guid.NewGuid();
        await using var connection = await pg.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("INSERT INTO organizations (id, name, plan) VALUES (@org, 'bench', 'enterprise')", new { org });
        return org;
    }

    /// <summary>Seconds to count the tokens of the same strings our counter tokenizes, on the same number of threads.</summary>
    private static double Floor(Tokenizer tokenizer, List<string[]> texts)
    {
        var watch = Stopwatch.StartNew();
        long total = 0;
        Parallel.For(0, texts.Count, () => 0L, (i, _, sum) =>
        {
            foreach (var text in texts[i])
            {
                sum += tokenizer.CountTokens(text);
            }
            return sum;
        }, sum => Interlocked.Add(ref total, sum));
        return total > 0 ? watch.Elapsed.TotalSeconds : throw new InvalidOperationException("No tokens?");
    }

    /// <summary>Per example, the strings <see cref="ExampleTokenCounter"/> tokenizes: roles, contents, names, calls and tool definitions.</summary>
    private static List<string[]> Texts(string file)
    {
        var all = new List<string[]>();
        foreach (var line in File.ReadLines(file))
        {
            using var document = JsonDocument.Parse(line);
            var texts = new List<string>();
            foreach (var message in document.RootElement.GetProperty("messages").EnumerateArray())
            {
                foreach (var p in message.EnumerateObject())
                {
                    if (p.Value.ValueKind == JsonValueKind.String)
                    {
                        texts.Add(p.Value.GetString()!);
                    }
                    else if (p.Name == "tool_calls")
                    {
                        foreach (var call in p.Value.EnumerateArray())
                        {
                            texts.Add(call.GetProperty("function").GetProperty("name").GetString()!);
                            texts.Add(call.GetProperty("function").GetProperty("arguments").GetString()!);
                        }
                    }
                }
            }
            if (document.RootElement.TryGetProperty("tools", out var tools))
            {
                texts.Add(tools.GetRawText());
            }
            all.Add([.. texts]);
        }
        return all;
    }
}
