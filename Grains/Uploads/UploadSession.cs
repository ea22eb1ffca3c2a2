using Dapper;
using Npgsql;
using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Plans;
using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Tokens;

namespace ObjectaLabs.Orleans.Uploads;

/// <summary>
/// One JSONL upload in progress. Lines are checked and token-counted in parallel, chunk by chunk, and
/// the valid ones are COPYed into a temporary staging table inside one open transaction on a
/// connection of the upload pool. Completing moves them into <c>training_examples</c> and commits (a
/// dry run does all of it, then rolls back, so it answers exactly what the upload would); anything
/// else (an invalid line in all-or-nothing mode, an abort, a crash, a lost connection) rolls the
/// transaction back, and the temporary table goes with it, so nothing is ever left behind or
/// half-visible. The session also holds one of its organization's upload slots (a session-level
/// advisory lock, released by the server if the connection dies), so an organization runs at most
/// <see cref="UploadSettings.MaxConcurrentPerOrganization"/> uploads at once across all silos.
/// </summary>
/// <remarks>
/// Line rules: the file is UTF-8, one example per line, '\n' or "\r\n" separated; a byte-order mark
/// at the very start is skipped; the final newline is optional. A blank line (empty or only spaces
/// and tabs) between examples is an error reported with its number; blank lines after the last
/// example are ignored, like the final newline. A file without any example is refused as a whole.
/// </remarks>
public sealed class UploadSession : IAsyncDisposable
{
    /// <summary>Issues kept for one line; more say only that there were more.</summary>
    public const int MaxIssuesPerLine = 100;

    private static ReadOnlySpan<byte> Bom => [0xEF, 0xBB, 0xBF];

    private readonly Guid _organizationId;
    private readonly UploadOptions _options;
    private readonly UploadSettings _settings;
    private readonly BaseModel _model;
    private readonly ExampleTokenCounter _counter;
    private readonly DateTimeOffset _startedAt;
    private readonly HashSet<UInt128> _hashes = [];
    private readonly List<ExampleIssue> _issues = [];
    private readonly SortedDictionary<string, long> _issueCounts = new(StringComparer.Ordinal);
    private NpgsqlConnection? _connection;
    private NpgsqlTransaction? _transaction;
    private int _slot = -1;
    private long _lines, _valid, _invalid, _duplicates, _tokens, _overLimit;
    private long _blankFrom, _blankCount; // blank lines not yet followed by an example: errors only if one follows
    private UploadBudget? _budget;
    private long _newExamples; // staged lines the organization does not store yet: what the plan's room is spent on
    private bool _finished;

    private UploadSession(Guid organizationId, Guid uploadId, UploadOptions options, UploadSettings settings, BaseModel model, TokenizerCache tokenizers, DateTimeOffset startedAt)
    {
        _organizationId = organizationId;
        UploadId = uploadId;
        _options = options;
        _settings = settings;
        _model = model;
        _counter = ExampleTokenCounter.For(model, tokenizers);
        _startedAt = startedAt;
    }

    public Guid UploadId { get; }

    public DateTimeOffset StartedAt => _startedAt;

    /// <summary>
    /// Opens the upload: a connection of the upload pool, one of the organization's upload slots, the
    /// transaction and its staging table. Refused (409) when the organization already runs its maximum
    /// of uploads or the silo's upload pool has no free connection.
    /// </summary>
    public static async Task<UploadSession> StartAsync(NpgsqlDataSource uploads, BaseModelCatalog models, TokenizerCache tokenizers,
        Guid organizationId, Guid uploadId, UploadOptions options, UploadSettings settings, DateTimeOffset now, CancellationToken cancellationToken = default,
        PlanDefinition? plan = null)
    {
        var session = new UploadSession(organizationId, uploadId, options, settings, models.Get(options.BaseModel), tokenizers, now);
        try
        {
            try
            {
                session._connection = await uploads.OpenConnectionAsync(cancellationToken);
            }
            catch (NpgsqlException e) when (e.InnerException is TimeoutException)
            {
                throw new ProblemException(ProblemKind.Conflict, "Upload capacity in use",
                    $"Every connection of this silo's upload pool ({settings.MaxConnections}) is busy with other uploads; retry in a minute.",
                    extensions: new Dictionary<string, string> { ["retryAfterSeconds"] = "60" });
            }
            session._slot = await TakeSlotAsync(session._connection, organizationId, settings.MaxConcurrentPerOrganization, cancellationToken);
            if (session._slot < 0)
            {
                throw new ProblemException(ProblemKind.Conflict, "Too many uploads in progress",
                    $"This organization already runs {settings.MaxConcurrentPerOrganization} uploads, its maximum at once; wait for one to finish.",
                    field: null,
                    new Dictionary<string, string>
                    {
                        ["limit"] = "maxConcurrentUploads",
                        ["maxConcurrentUploads"] = settings.MaxConcurrentPerOrganization.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    });
            }
            session._transaction = await session._connection.BeginTransactionAsync(cancellationToken);
            await ExampleRows.CreateStagingAsync(session._connection, session._transaction, cancellationToken);
            if (plan is { MaxTrainingExamples: not null })
            {
                session._budget = new UploadBudget(plan, await ExampleRows.CountAsync(session._connection, organizationId, session._transaction, cancellationToken));
            }
            return session;
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    /// <summary>Whether the upload has passed its overall deadline (however steadily it trickles in).</summary>
    public bool IsPastDeadline(DateTimeOffset now) => now - _startedAt > _settings.Deadline;

    /// <summary>Checks, counts and stages one chunk of whole lines; answers the issues in it (at most <see cref="UploadSettings.MaxReportedIssues"/>).</summary>
    public async Task<UploadChunkResult> AppendAsync(UploadChunk chunk, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        var chunkIssues = new List<ExampleIssue>();
        if (chunk.LineTooLong)
        {
            // The API dropped this line's bytes at the cap instead of buffering them.
            ResolveBlankLines(chunkIssues);
            _lines++;
            _invalid++;
            Remember(LineTooLong(chunk.FirstLine), chunkIssues);
            return new UploadChunkResult(1, 0, chunkIssues);
        }
        var data = chunk.Data.AsMemory();
        if (chunk.FirstLine == 1 && data.Span.StartsWith(Bom))
        {
            data = data[Bom.Length..]; // editors write one; it is not part of the first line
        }
        var lines = SplitLines(data.Span);
        var results = new CheckedExample?[lines.Count];
        var lineIssues = new List<ExampleIssue>?[lines.Count];
        var maxLine = _settings.MaxLineBytes;
        // CPU-bound: parse, validate, canonicalize, hash and tokenize every line on all cores.
        // Bounded: one upload never takes every core of the pool the silo's grains run on.
        var parallel = new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = _settings.EffectiveParallelism };
        await Task.Run(() => Parallel.For(0, lines.Count, parallel, i =>
        {
            var (start, length) = lines[i];
            var span = data.Span.Slice(start, length);
            if (span.Trim(" \t\r"u8).IsEmpty)
            {
                return; // blank: decided below, in order
            }
            var issues = new List<ExampleIssue>(0);
            if (length > maxLine)
            {
                issues.Add(LineTooLong(chunk.FirstLine + i));
            }
            else
            {
                results[i] = CheckedExample.Check(span, chunk.FirstLine + i, issues, _counter);
            }
            lineIssues[i] = issues;
        }), cancellationToken);

        var staged = new List<ExampleRows.StagedExample>(lines.Count);
        for (var i = 0; i < lines.Count; i++)
        {
            var line = chunk.FirstLine + i;
            if (lineIssues[i] is not { } issues)
            {
                if (_blankCount++ == 0)
                {
                    _blankFrom = line;
                }
                continue;
            }
            ResolveBlankLines(chunkIssues);
            _lines++;
            if (results[i] is not { } example)
            {
                _invalid++;
                foreach (var issue in issues.Take(MaxIssuesPerLine))
                {
                    Remember(issue, chunkIssues);
                }
                if (issues.Count > MaxIssuesPerLine)
                {
                    Remember(new ExampleIssue(line, "$", "too_many_issues", $"Line {line} has {issues.Count} issues; only the first {MaxIssuesPerLine} are counted."), chunkIssues);
                }
                continue;
            }
            _valid++;
            _tokens += example.Tokens;
            if (_model.MaxTrainingExampleTokens is { } limit && example.Tokens > limit)
            {
                _overLimit++;
                Remember(new ExampleIssue(line, "$", "over_token_limit",
                    $"About {example.Tokens} tokens, over {_model.Id}'s training-example limit of {limit}; the provider truncates it.", IssueSeverity.Warning), chunkIssues);
            }
            if (!_hashes.Add(Key(example.ContentHash)))
            {
                _duplicates++;
                Remember(new ExampleIssue(line, "$", "duplicate", "An identical example appears earlier in this file; it is stored once.", IssueSeverity.Duplicate), chunkIssues);
                continue;
            }
            staged.Add(new ExampleRows.StagedExample(line, Guid.CreateVersion7(_startedAt), example));
        }
        if (staged.Count > 0)
        {
            await ExampleRows.StageAsync(Connection(), staged, hashesOnly: _options.DryRun, cancellationToken);
            await SpendBudgetAsync(staged[0].Line, staged[^1].Line, cancellationToken);
        }
        if (_invalid > _settings.MaxInvalidLines)
        {
            await DisposeAsync();
            throw new ProblemException(ProblemKind.Validation, "Too many invalid lines",
                $"Reading stopped at line {chunk.FirstLine + lines.Count - 1}: {_invalid} invalid lines, more than the {_settings.MaxInvalidLines} an upload may hold "
                + $"(Uploads:MaxInvalidLines); nothing was stored. By code: {string.Join(", ", _issueCounts.Select(c => $"{c.Key} {c.Value}"))}. First: {_issues.FirstOrDefault()?.Reason}",
                "body")
            { Figures = new Dictionary<string, long> { ["invalidLines"] = _invalid, ["maxInvalidLines"] = _settings.MaxInvalidLines } };
        }
        return new UploadChunkResult(lines.Count, staged.Count, chunkIssues);
    }

    /// <summary>
    /// Stops an upload as soon as it holds more new examples than its plan could still store, instead of reading (and
    /// tokenizing) the rest of a file whose completion would be refused anyway; the bound on an upload's work.
    /// </summary>
    private async Task SpendBudgetAsync(long fromLine, long toLine, CancellationToken cancellationToken)
    {
        if (_budget is not { Plan.MaxTrainingExamples: { } max } budget)
        {
            return;
        }
        _newExamples += await ExampleRows.NewStagedAsync(Connection(), _transaction!, _organizationId, fromLine, toLine, cancellationToken);
        if (budget.StoredAtStart + _newExamples > max)
        {
            await DisposeAsync();
            throw PlanLimits.Exceeded(budget.Plan, "maxTrainingExamples", max, budget.StoredAtStart, _newExamples,
                $"Reading stopped at line {toLine}: this upload already holds {_newExamples} new examples and the organization stores "
                + $"{budget.StoredAtStart}; plan '{budget.Plan.Name}' allows {max}. Nothing was stored.");
        }
    }

    /// <summary>
    /// Finishes the upload: reports duplicates of stored examples and stores (or, for a dry run, finds
    /// out exactly what would be stored and stores nothing). A file without any example is refused.
    /// </summary>
    public async Task<UploadReport> CompleteAsync(ExampleLimitCheck checkLimit, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        var connection = Connection();
        if (_lines == 0)
        {
            await DisposeAsync();
            throw new ProblemException(ProblemKind.Validation, "Empty upload",
                "The file holds no examples: it is empty or holds only blank lines. Send one JSON object per line.", "body");
        }
        if (_options.Mode == UploadMode.AllOrNothing && _invalid > 0)
        {
            return await FinishAsync(stored: false, 0, $"{_invalid} invalid lines; all-or-nothing upload, so nothing was stored.");
        }
        await ExampleRows.LockAsync(connection, _organizationId, cancellationToken);
        var duplicateLines = await ExampleRows.StagedDuplicatesAsync(connection, _transaction!, _organizationId, cancellationToken);
        _duplicates += duplicateLines.Count;
        foreach (var l in duplicateLines)
        {
            Remember(new ExampleIssue(l, "$", "duplicate", "An identical example is already stored; it is not stored twice.", IssueSeverity.Duplicate), null);
        }
        var toStore = (int)(_valid - _duplicates);
        var current = await ExampleRows.CountAsync(connection, _organizationId, _transaction, cancellationToken);
        if (toStore > 0 && checkLimit(current, toStore, await ExampleRows.PlanInForceAsync(connection, _transaction, _organizationId, cancellationToken)) is { } problem)
        {
            await DisposeAsync();
            throw problem;
        }
        if (_options.DryRun)
        {
            // Everything the insert could still refuse is known here: the stored duplicates were just counted, the
            // lines were checked, and the organization and agent are looked up; so nothing is written and rolled back.
            await RequireOwnersAsync(connection, cancellationToken);
            return await FinishAsync(stored: false, toStore,
                $"Dry run: {toStore} new examples would be stored; nothing was stored.");
        }
        int inserted;
        try
        {
            inserted = await ExampleRows.InsertStagedAsync(connection, _transaction!, _organizationId, UploadId, _options.AgentId,
                _options.Tags ?? [], _startedAt, cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation && _options.AgentId is not null)
        {
            // Only an upload that names an agent can miss it; a missing organization is not the caller's agent at fault.
            await DisposeAsync();
            throw ProblemException.Invalid("agentId", $"Agent '{_options.AgentId}' does not belong to this organization.");
        }
        await _transaction!.CommitAsync(cancellationToken);
        return await FinishAsync(stored: true, inserted, $"{inserted} examples stored; {_invalid} invalid lines and {_duplicates} duplicates were not.");
    }

    /// <summary>What the insert's foreign keys would check, for a dry run: the organization's row, and the agent's when one is named.</summary>
    private async Task RequireOwnersAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var (organization, agent) = await connection.QuerySingleAsync<(bool, bool)>(new CommandDefinition("""
            SELECT EXISTS (SELECT 1 FROM organizations WHERE id = @organizationId),
                   @agentId::uuid IS NULL OR EXISTS (SELECT 1 FROM agents WHERE organization_id = @organizationId AND id = @agentId)
            """, new { organizationId = _organizationId, agentId = _options.AgentId }, _transaction, cancellationToken: cancellationToken));
        if (!organization || !agent)
        {
            await DisposeAsync();
            throw organization
                ? ProblemException.Invalid("agentId", $"Agent '{_options.AgentId}' does not belong to this organization.")
                : ProblemException.NotFound("Organization", _organizationId);
        }
    }

    private NpgsqlConnection Connection() =>
        _connection ?? throw new ObjectDisposedException(nameof(UploadSession));

    private ExampleIssue LineTooLong(long line) =>
        new(line, "$", "line_too_long",
            $"Line {line} is longer than {_settings.MaxLineBytes} bytes (Uploads:MaxLineBytes), far beyond any training example; it was not read.");

    /// <summary>Blank lines followed by an example are errors, each reported with its number.</summary>
    private void ResolveBlankLines(List<ExampleIssue> chunkIssues)
    {
        for (var n = 0L; n < _blankCount; n++)
        {
            var line = _blankFrom + n;
            _lines++;
            _invalid++;
            Remember(new ExampleIssue(line, "$", "blank_line", $"Line {line} is blank; a JSONL file holds one example on every line."), chunkIssues);
        }
        _blankCount = 0;
    }

    private async Task<UploadReport> FinishAsync(bool stored, int newExamples, string summary)
    {
        var report = new UploadReport(UploadId, stored, _lines, _valid, _invalid, _duplicates, stored ? newExamples : 0, _tokens, _counter.Approximate,
            _overLimit, _issues.ToList(), _issues.Count < _issueCounts.Values.Sum(),
            $"{_lines} lines: {_valid} valid, {_invalid} invalid, {_duplicates} duplicates. {summary}"
            + (_counter.Approximate ? $" Token counts are approximate: {_model.Id} has no exact tokenizer here." : ""),
            new Dictionary<string, long>(_issueCounts, StringComparer.Ordinal),
            _options.DryRun,
            newExamples);
        await DisposeAsync();
        return report;
    }

    /// <summary>Counts every issue by code; keeps the first ones for the upload's answer and the chunk's.</summary>
    private void Remember(ExampleIssue issue, List<ExampleIssue>? chunkIssues)
    {
        _issueCounts[issue.Code] = _issueCounts.GetValueOrDefault(issue.Code) + 1;
        if (_issues.Count < _settings.MaxReportedIssues)
        {
            _issues.Add(issue);
        }
        if (chunkIssues is not null && chunkIssues.Count < _settings.MaxReportedIssues)
        {
            chunkIssues.Add(issue);
        }
    }

    private static UInt128 Key(byte[] hash) => BitConverter.ToUInt128(hash, 0);

    /// <summary>(start, length) of each line of a chunk, without its '\n'.</summary>
    private static List<(int Start, int Length)> SplitLines(ReadOnlySpan<byte> data)
    {
        var lines = new List<(int, int)>();
        var start = 0;
        while (start < data.Length)
        {
            var end = data[start..].IndexOf((byte)'\n');
            if (end < 0)
            {
                lines.Add((start, data.Length - start));
                break;
            }
            lines.Add((start, end));
            start += end + 1;
        }
        return lines;
    }

    /// <summary>One of the organization's upload slots as a session-level advisory lock; -1 when all are taken.</summary>
    private static async Task<int> TakeSlotAsync(NpgsqlConnection connection, Guid organizationId, int slots, CancellationToken cancellationToken)
    {
        for (var slot = 0; slot < slots; slot++)
        {
            if (await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT pg_try_advisory_lock(hashtext(@key), @slot)", new { key = SlotKey(organizationId), slot }, cancellationToken: cancellationToken)))
            {
                return slot;
            }
        }
        return -1;
    }

    private static string SlotKey(Guid organizationId) => $"uploads:{organizationId}";

    public async ValueTask DisposeAsync()
    {
        _finished = true;
        // Disposing an uncommitted transaction rolls it back (and drops the temp table).
        if (_transaction is not null)
        {
            try
            {
                await _transaction.DisposeAsync();
            }
            catch (NpgsqlException)
            {
                // the connection is gone, and the server rolled back with it
            }
            _transaction = null;
        }
        if (_connection is not null)
        {
            if (_slot >= 0)
            {
                try
                {
                    // Pooled connections keep session locks until reused, so release the slot now.
                    await _connection.ExecuteAsync("SELECT pg_advisory_unlock(hashtext(@key), @slot)", new { key = SlotKey(_organizationId), slot = _slot });
                }
                catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
                {
                    // a broken connection: the server released its locks when it ended the session
                }
                _slot = -1;
            }
            await _connection.DisposeAsync();
            _connection = null;
        }
    }
}

/// <summary>What an upload may add: its organization's plan and the examples it stored when the upload started.</summary>
internal sealed record UploadBudget(PlanDefinition Plan, long StoredAtStart);
