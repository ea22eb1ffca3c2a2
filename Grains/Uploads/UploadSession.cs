using System.Text;
using Dapper;
using Npgsql;
using NpgsqlTypes;
using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Tokens;

namespace ObjectaLabs.Orleans.Uploads;

/// <summary>
/// One JSONL upload in progress. Lines are checked and token-counted in parallel, chunk by chunk, and
/// the valid ones are COPYed into a temporary staging table inside one open transaction. Completing
/// moves them into <c>training_examples</c> and commits; anything else (an invalid line in
/// all-or-nothing mode, an abort, a crash, a lost connection) rolls the transaction back, and the
/// temporary table goes with the session, so nothing is ever left behind or half-visible.
/// </summary>
public sealed class UploadSession : IAsyncDisposable
{
    public const int MaxReportedIssues = 1000;

    private readonly NpgsqlDataSource _db;
    private readonly Guid _organizationId;
    private readonly UploadOptions _options;
    private readonly BaseModel _model;
    private readonly ExampleTokenCounter _counter;
    private readonly DateTimeOffset _startedAt;
    private readonly HashSet<UInt128> _hashes = [];
    private readonly List<ExampleIssue> _issues = [];
    private NpgsqlConnection? _connection;
    private NpgsqlTransaction? _transaction;
    private long _lines, _valid, _invalid, _duplicates, _tokens, _overLimit, _issueCount;
    private bool _finished;

    private UploadSession(NpgsqlDataSource db, Guid organizationId, Guid uploadId, UploadOptions options, BaseModel model, TokenizerCache tokenizers, DateTimeOffset startedAt)
    {
        _db = db;
        _organizationId = organizationId;
        UploadId = uploadId;
        _options = options;
        _model = model;
        _counter = ExampleTokenCounter.For(model, tokenizers);
        _startedAt = startedAt;
    }

    public Guid UploadId { get; }

    public static async Task<UploadSession> StartAsync(NpgsqlDataSource db, BaseModelCatalog models, TokenizerCache tokenizers,
        Guid organizationId, Guid uploadId, UploadOptions options, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var session = new UploadSession(db, organizationId, uploadId, options, models.Get(options.BaseModel), tokenizers, now);
        if (!options.DryRun)
        {
            session._connection = await db.OpenConnectionAsync(cancellationToken);
            session._transaction = await session._connection.BeginTransactionAsync(cancellationToken);
            await session._connection.ExecuteAsync(new CommandDefinition("""
                CREATE TEMP TABLE upload_staging (
                    line bigint NOT NULL, id uuid NOT NULL, messages jsonb NOT NULL, tools jsonb, functions jsonb,
                    parallel_tool_calls boolean, content_hash bytea NOT NULL) ON COMMIT DROP
                """, transaction: session._transaction, cancellationToken: cancellationToken));
        }
        return session;
    }

    /// <summary>Checks, counts and stages one chunk of whole lines; answers every issue in it.</summary>
    public async Task<UploadChunkResult> AppendAsync(UploadChunk chunk, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        var lines = SplitLines(chunk.Data);
        var results = new CheckedExample?[lines.Count];
        var lineIssues = new List<ExampleIssue>?[lines.Count];
        // CPU-bound: parse, validate, canonicalize, hash and tokenize every line on all cores.
        await Task.Run(() => Parallel.For(0, lines.Count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
        {
            var (start, length) = lines[i];
            var span = chunk.Data.AsSpan(start, length);
            if (span.Trim(" \t\r"u8).IsEmpty)
            {
                return; // blank lines (a trailing newline) are not examples
            }
            var issues = new List<ExampleIssue>(0);
            results[i] = CheckedExample.Check(span, chunk.FirstLine + i, issues, _counter);
            lineIssues[i] = issues;
        }), cancellationToken);

        var chunkIssues = new List<ExampleIssue>();
        var staged = new List<(long Line, CheckedExample Example)>(lines.Count);
        for (var i = 0; i < lines.Count; i++)
        {
            var line = chunk.FirstLine + i;
            if (lineIssues[i] is not { } issues)
            {
                continue;
            }
            _lines++;
            if (results[i] is not { } example)
            {
                _invalid++;
                chunkIssues.AddRange(issues);
                continue;
            }
            _valid++;
            _tokens += example.Tokens;
            if (_model.MaxTrainingExampleTokens is { } limit && example.Tokens > limit)
            {
                _overLimit++;
                chunkIssues.Add(new ExampleIssue(line, "$", "over_token_limit",
                    $"About {example.Tokens} tokens, over {_model.Id}'s training-example limit of {limit}; the provider truncates it.", IssueSeverity.Warning));
            }
            if (!_hashes.Add(Key(example.ContentHash)))
            {
                _duplicates++;
                chunkIssues.Add(new ExampleIssue(line, "$", "duplicate", "An identical example appears earlier in this file; it is stored once.", IssueSeverity.Duplicate));
                continue;
            }
            staged.Add((line, example));
        }
        if (_connection is not null && staged.Count > 0)
        {
            await StageAsync(staged, cancellationToken);
        }
        Remember(chunkIssues);
        return new UploadChunkResult(lines.Count, staged.Count, chunkIssues);
    }

    /// <summary>Finishes the upload: reports duplicates of stored examples and stores, or stores nothing.</summary>
    public async Task<UploadReport> CompleteAsync(Func<int, ProblemException?> checkLimit, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        if (_options.DryRun || _connection is null)
        {
            return await FinishAsync(stored: false, 0, "Dry run: checked and counted, nothing stored.");
        }
        if (_options.Mode == UploadMode.AllOrNothing && _invalid > 0)
        {
            return await FinishAsync(stored: false, 0, $"{_invalid} invalid lines; all-or-nothing upload, so nothing was stored.");
        }
        await ExampleRows.LockAsync(_connection, _organizationId, cancellationToken);
        var duplicateLines = (await _connection.QueryAsync<long>(new CommandDefinition("""
            SELECT s.line FROM upload_staging s
            WHERE EXISTS (SELECT 1 FROM training_examples t WHERE t.organization_id = @organizationId AND t.content_hash = s.content_hash)
            ORDER BY s.line
            """, new { organizationId = _organizationId }, _transaction, cancellationToken: cancellationToken))).ToList();
        _duplicates += duplicateLines.Count;
        Remember(duplicateLines.Select(l => new ExampleIssue(l, "$", "duplicate", "An identical example is already stored; it is not stored twice.", IssueSeverity.Duplicate)).ToList());
        var toStore = (int)(_valid - _duplicates);
        var current = await ExampleRows.CountAsync(_connection, _organizationId, _transaction, cancellationToken);
        if (toStore > 0 && checkLimit(current + toStore) is { } problem)
        {
            await FinishAsync(stored: false, 0, problem.Message);
            throw problem;
        }
        int stored;
        try
        {
            stored = await _connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO training_examples (id, organization_id, agent_id, messages, tools, functions, parallel_tool_calls, content_hash,
                                               source, upload_id, tags, created_at, updated_at)
                SELECT s.id, @organizationId, @agentId, s.messages, s.tools, s.functions, s.parallel_tool_calls, s.content_hash,
                       'upload', @uploadId, @tags, @at, @at
                FROM upload_staging s
                WHERE NOT EXISTS (SELECT 1 FROM training_examples t WHERE t.organization_id = @organizationId AND t.content_hash = s.content_hash)
                """,
                new { organizationId = _organizationId, agentId = _options.AgentId, uploadId = UploadId, tags = (_options.Tags ?? []).ToArray(), at = _startedAt },
                _transaction, commandTimeout: 600, cancellationToken: cancellationToken));
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            await FinishAsync(stored: false, 0, "Unknown agent.");
            throw ProblemException.Invalid("agentId", $"Agent '{_options.AgentId}' does not belong to this organization.");
        }
        await _transaction!.CommitAsync(cancellationToken);
        return await FinishAsync(stored: true, stored, $"{stored} examples stored; {_invalid} invalid lines and {_duplicates} duplicates were not.");
    }

    private async Task StageAsync(List<(long Line, CheckedExample Example)> staged, CancellationToken cancellationToken)
    {
        await using var importer = await _connection!.BeginBinaryImportAsync(
            "COPY upload_staging (line, id, messages, tools, functions, parallel_tool_calls, content_hash) FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach (var (line, example) in staged)
        {
            await importer.StartRowAsync(cancellationToken);
            await importer.WriteAsync(line, NpgsqlDbType.Bigint, cancellationToken);
            await importer.WriteAsync(Guid.CreateVersion7(_startedAt), NpgsqlDbType.Uuid, cancellationToken);
            await importer.WriteAsync(example.Messages, NpgsqlDbType.Jsonb, cancellationToken);
            await WriteTextAsync(importer, example.Tools, cancellationToken);
            await WriteTextAsync(importer, example.Functions, cancellationToken);
            if (example.ParallelToolCalls is { } parallel)
            {
                await importer.WriteAsync(parallel, NpgsqlDbType.Boolean, cancellationToken);
            }
            else
            {
                await importer.WriteNullAsync(cancellationToken);
            }
            await importer.WriteAsync(example.ContentHash, NpgsqlDbType.Bytea, cancellationToken);
        }
        await importer.CompleteAsync(cancellationToken);
    }

    private static Task WriteTextAsync(NpgsqlBinaryImporter importer, string? json, CancellationToken cancellationToken) =>
        json is null ? importer.WriteNullAsync(cancellationToken) : importer.WriteAsync(json, NpgsqlDbType.Jsonb, cancellationToken);

    private async Task<UploadReport> FinishAsync(bool stored, int storedCount, string summary)
    {
        var report = new UploadReport(UploadId, stored, _lines, _valid, _invalid, _duplicates, storedCount, _tokens, _counter.Approximate,
            _overLimit, _issues.ToList(), _issueCount > _issues.Count,
            $"{_lines} lines: {_valid} valid, {_invalid} invalid, {_duplicates} duplicates. {summary}"
            + (_counter.Approximate ? $" Token counts are approximate: {_model.Id} has no exact tokenizer here." : ""));
        await DisposeAsync();
        return report;
    }

    private void Remember(List<ExampleIssue> issues)
    {
        _issueCount += issues.Count;
        foreach (var issue in issues.Take(MaxReportedIssues - _issues.Count))
        {
            _issues.Add(issue);
        }
    }

    private static UInt128 Key(byte[] hash) => BitConverter.ToUInt128(hash, 0);

    /// <summary>(start, length) of each line of a chunk, without its '\n'.</summary>
    private static List<(int Start, int Length)> SplitLines(byte[] data)
    {
        var lines = new List<(int, int)>();
        var start = 0;
        while (start < data.Length)
        {
            var end = Array.IndexOf(data, (byte)'\n', start);
            if (end < 0)
            {
                lines.Add((start, data.Length - start));
                break;
            }
            lines.Add((start, end - start));
            start = end + 1;
        }
        return lines;
    }

    public async ValueTask DisposeAsync()
    {
        _finished = true;
        // Disposing an uncommitted transaction rolls it back; closing the session drops the temp table.
        if (_transaction is not null)
        {
            await _transaction.DisposeAsync();
            _transaction = null;
        }
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
            _connection = null;
        }
    }
}
