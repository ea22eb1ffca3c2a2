using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;
using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Export;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Training.Jobs;

/// <summary>
/// The relational side of training jobs: the <c>fine_tuning_jobs</c> mirror, the frozen datasets and the events
/// (<c>sql/0009_training_jobs.sql</c>). Only job grains write here; listings read the mirror.
/// </summary>
public sealed class TrainingJobRows(NpgsqlDataSource db)
{
    public const int MaxListLimit = 100;
    public const int MaxEventLimit = 500;

    /// <summary>Validated examples (optionally one agent's) read in one snapshot: ids for the split, then the text.</summary>
    public async Task<IReadOnlyList<(Guid Id, byte[] Hash, string Example)>> ReadValidatedAsync(Guid organizationId, Guid? agentId, CancellationToken cancellationToken = default)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<ExampleTextRow>(new CommandDefinition("""
            SELECT id AS Id, content_hash AS Hash, messages::text AS Messages, tools::text AS Tools, functions::text AS Functions,
                   parallel_tool_calls AS ParallelToolCalls
            FROM training_examples
            WHERE organization_id = @organizationId AND is_validated AND (@agentId::uuid IS NULL OR agent_id = @agentId)
            ORDER BY created_at, id
            """, new { organizationId, agentId }, cancellationToken: cancellationToken));
        return rows.Select(r => (r.Id, r.Hash, ExampleRow.Compose(r.Messages, r.Tools, r.Functions, r.ParallelToolCalls))).ToList();
    }

    /// <summary>
    /// Splits the validated examples with the job's seed and ratio and hashes each part's file bytes (one example per
    /// line, each line ending in a newline), exactly as <see cref="WriteFileAsync"/> will write them.
    /// </summary>
    public static FrozenDataset Freeze(IReadOnlyList<(Guid Id, byte[] Hash, string Example)> examples, double ratio, int seed)
    {
        var (validationIds, note) = TrainValidationSplit.Validation(examples.Select(e => e.Id).ToList(), new SplitOptions(seed, ratio));
        var training = examples.Where(e => !validationIds.Contains(e.Id)).ToList();
        var validation = examples.Where(e => validationIds.Contains(e.Id)).ToList();
        var (trainHash, trainBytes) = HashFile(training.Select(e => e.Example));
        var (validationHash, validationBytes) = validation.Count == 0 ? ((string?)null, 0L) : HashFile(validation.Select(e => e.Example));
        var datasetHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"train:{trainHash}\nvalidation:{validationHash ?? "none"}\n")));
        return new FrozenDataset(training, validation, new JobDataset(training.Count, validation.Count, trainHash, validationHash, trainBytes, validationBytes,
            datasetHash, ratio, seed, note));
    }

    private static (string Hash, long Bytes) HashFile(IEnumerable<string> lines)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long bytes = 0;
        foreach (var line in lines)
        {
            var data = Encoding.UTF8.GetBytes(line + "\n");
            hash.AppendData(data);
            bytes += data.Length;
        }
        return (Convert.ToHexStringLower(hash.GetHashAndReset()), bytes);
    }

    /// <summary>
    /// Writes the mirror row and the frozen examples in one transaction, replacing an earlier attempt for the same job
    /// (a start whose grain write failed is retried from scratch).
    /// </summary>
    public async Task InsertJobAsync(TrainingJobInfo job, FrozenDataset dataset, CancellationToken cancellationToken = default)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM fine_tuning_jobs WHERE id = @Id AND organization_id = @OrganizationId",
            new { job.Id, job.OrganizationId }, transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(UpsertSql, MirrorParameters(job), transaction, cancellationToken: cancellationToken));
        await using (var import = await connection.BeginBinaryImportAsync(
            "COPY fine_tuning_job_examples (job_id, part, position, example_id, content_hash, example) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var (part, list) in new[] { ((short)0, dataset.Training), ((short)1, dataset.Validation) })
            {
                for (var i = 0; i < list.Count; i++)
                {
                    await import.StartRowAsync(cancellationToken);
                    await import.WriteAsync(job.Id, NpgsqlTypes.NpgsqlDbType.Uuid, cancellationToken);
                    await import.WriteAsync(part, NpgsqlTypes.NpgsqlDbType.Smallint, cancellationToken);
                    await import.WriteAsync(i, NpgsqlTypes.NpgsqlDbType.Integer, cancellationToken);
                    await import.WriteAsync(list[i].Id, NpgsqlTypes.NpgsqlDbType.Uuid, cancellationToken);
                    await import.WriteAsync(list[i].Hash, NpgsqlTypes.NpgsqlDbType.Bytea, cancellationToken);
                    await import.WriteAsync(list[i].Example, NpgsqlTypes.NpgsqlDbType.Text, cancellationToken);
                }
            }
            await import.CompleteAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Removes a job whose start was refused after its rows were written (its grain state was never kept).</summary>
    public async Task DeleteJobAsync(Guid organizationId, Guid jobId)
    {
        await using var connection = await db.OpenConnectionAsync();
        await connection.ExecuteAsync("DELETE FROM fine_tuning_jobs WHERE id = @jobId AND organization_id = @organizationId", new { jobId, organizationId });
    }

    /// <summary>Streams one part of the frozen dataset as the file's bytes (never all in memory).</summary>
    /// <summary>Writes examples as a JSONL file, byte for byte as <see cref="WriteFileAsync"/> writes a frozen part (so its SHA-256 is the same).</summary>
    public static async Task WriteLinesAsync(IEnumerable<string> examples, Stream destination, CancellationToken cancellationToken)
    {
        var newline = "\n"u8.ToArray();
        foreach (var line in examples)
        {
            await destination.WriteAsync(Encoding.UTF8.GetBytes(line), cancellationToken);
            await destination.WriteAsync(newline, cancellationToken);
        }
        await destination.FlushAsync(cancellationToken);
    }

    public async Task WriteFileAsync(Guid jobId, int part, Stream destination, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT example FROM fine_tuning_job_examples WHERE job_id = @job AND part = @part ORDER BY position", connection);
        command.Parameters.AddWithValue("job", jobId);
        command.Parameters.AddWithValue("part", (short)part);
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellationToken);
        var newline = "\n"u8.ToArray();
        while (await reader.ReadAsync(cancellationToken))
        {
            var line = reader.GetString(0);
            await destination.WriteAsync(Encoding.UTF8.GetBytes(line), cancellationToken);
            await destination.WriteAsync(newline, cancellationToken);
        }
        await destination.FlushAsync(cancellationToken);
    }

    public async Task UpsertMirrorAsync(TrainingJobInfo job, CancellationToken cancellationToken = default)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(UpsertSql, MirrorParameters(job), cancellationToken: cancellationToken));
    }

    /// <summary>Jobs that will still yield a model: what counts against the plan's model limit beside the registered models.</summary>
    public async Task<int> CountInFlightAsync(Guid organizationId)
    {
        await using var connection = await db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM fine_tuning_jobs WHERE organization_id = @organizationId AND status NOT IN ('succeeded', 'failed', 'cancelled')",
            new { organizationId });
    }

    /// <summary>Inserts events not stored yet (by the provider's event id); a repeated poll inserts nothing.</summary>
    public async Task InsertEventsAsync(Guid jobId, IReadOnlyList<TrainingJobEvent> events, CancellationToken cancellationToken = default)
    {
        if (events.Count == 0)
        {
            return;
        }
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO fine_tuning_job_events (job_id, provider_event_id, created_at, level, type, message, step, total_steps, train_loss, validation_loss)
            SELECT @jobId, * FROM unnest(@ids, @at, @levels, @types, @messages, @steps, @totals, @train, @validation)
            ON CONFLICT (job_id, provider_event_id) DO NOTHING
            """, new
        {
            jobId,
            ids = events.Select(e => e.ProviderEventId).ToArray(),
            at = events.Select(e => e.CreatedAt.UtcDateTime).ToArray(),
            levels = events.Select(e => e.Level).ToArray(),
            types = events.Select(e => e.Type).ToArray(),
            messages = events.Select(e => e.Message).ToArray(),
            steps = events.Select(e => e.Step).ToArray(),
            totals = events.Select(e => e.TotalSteps).ToArray(),
            train = events.Select(e => e.TrainLoss).ToArray(),
            validation = events.Select(e => e.ValidationLoss).ToArray(),
        }, cancellationToken: cancellationToken));
    }

    public async Task<TrainingJobEventPage> ListEventsAsync(Guid jobId, long? after, int limit)
    {
        await using var connection = await db.OpenConnectionAsync();
        var rows = (await connection.QueryAsync<EventRow>("""
            SELECT seq AS Sequence, provider_event_id AS ProviderEventId, created_at AS CreatedAt, level AS Level, type AS Type, message AS Message,
                   step AS Step, total_steps AS TotalSteps, train_loss AS TrainLoss, validation_loss AS ValidationLoss
            FROM fine_tuning_job_events WHERE job_id = @jobId AND seq > @after ORDER BY seq LIMIT @take
            """, new { jobId, after = after ?? 0, take = limit + 1 })).ToList();
        var more = rows.Count > limit;
        var page = rows.Take(limit).Select(r => new TrainingJobEvent(r.Sequence, r.ProviderEventId, Utc(r.CreatedAt), r.Level, r.Type, r.Message,
            r.Step, r.TotalSteps, r.TrainLoss, r.ValidationLoss)).ToList();
        return new TrainingJobEventPage(page, more ? page[^1].Sequence : null);
    }

    public async Task<TrainingJobPage> ListAsync(Guid organizationId, TrainingJobListRequest request)
    {
        if (request.Limit is < 1 or > MaxListLimit)
        {
            throw ProblemException.Invalid("limit", $"'limit' must be between 1 and {MaxListLimit}.");
        }
        var (cursorAt, cursorId) = ParseCursor(request.Cursor);
        await using var connection = await db.OpenConnectionAsync();
        var rows = (await connection.QueryAsync<SummaryRow>("""
            SELECT id AS Id, agent_id AS AgentId, name AS Name, base_model AS BaseModel, provider AS Provider, status AS Status,
                   provider_job_id AS ProviderJobId, fine_tuned_model_id AS FineTunedModel, model_id AS ModelId,
                   coalesce(training_examples_count, 0) AS TrainingExamples, coalesce(validation_examples_count, 0) AS ValidationExamples,
                   training_tokens AS TrainedTokens, estimated_cost AS EstimatedCost, actual_cost AS ActualCost,
                   training_loss AS TrainingLoss, validation_loss AS ValidationLoss, error_message AS ErrorMessage,
                   created_at AS CreatedAt, updated_at AS UpdatedAt, training_completed_at AS FinishedAt
            FROM fine_tuning_jobs
            WHERE organization_id = @organizationId
              AND (@status::text IS NULL OR status = @status)
              AND (@cursorAt::timestamptz IS NULL OR (created_at, id) < (@cursorAt, @cursorId))
            ORDER BY created_at DESC, id DESC
            LIMIT @take
            """, new { organizationId, status = request.Status?.Name(), cursorAt, cursorId, take = request.Limit + 1 })).ToList();
        var more = rows.Count > request.Limit;
        var jobs = rows.Take(request.Limit).Select(r => r.ToSummary()).ToList();
        return new TrainingJobPage(jobs, more ? Cursor(jobs[^1]) : null);
    }

    private static string Cursor(TrainingJobSummary last) =>
        Convert.ToBase64String(Encoding.ASCII.GetBytes(
            $"{(last.CreatedAt.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10}:{last.Id:N}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static (DateTime? At, Guid Id) ParseCursor(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor))
        {
            return (null, Guid.Empty);
        }
        try
        {
            var padded = cursor.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            var parts = Encoding.ASCII.GetString(Convert.FromBase64String(padded)).Split(':');
            if (parts.Length == 2 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var micros)
                && Guid.TryParseExact(parts[1], "N", out var id) && micros < 253_402_300_799_000_000)
            {
                return (DateTime.UnixEpoch.AddTicks(micros * 10), id);
            }
        }
        catch (FormatException)
        {
        }
        throw ProblemException.Invalid("cursor", "'cursor' is not a cursor this list returned.");
    }

    private const string UpsertSql = """
        INSERT INTO fine_tuning_jobs (id, organization_id, agent_id, name, base_model, provider, training_file_id, validation_file_id,
            training_examples_count, validation_examples_count, status, provider_status, provider_job_id, fine_tuned_model_id, model_id,
            training_started_at, training_completed_at, training_loss, validation_loss, training_tokens, estimated_cost, actual_cost,
            hyperparameters, error_message, created_by, created_at, updated_at, dataset_hash, suffix, simulated, cancel_requested)
        VALUES (@Id, @OrganizationId, @AgentId, @Name, @BaseModel, @Provider, @TrainingFileId, @ValidationFileId,
            @TrainingExamples, @ValidationExamples, @Status, @ProviderStatus, @ProviderJobId, @FineTunedModel, @ModelId,
            @StartedAt, @FinishedAt, @TrainingLoss, @ValidationLoss, @TrainedTokens, @EstimatedCost, @ActualCost,
            @Hyperparameters::jsonb, @ErrorMessage, @CreatedBy, @CreatedAt, @UpdatedAt, @DatasetHash, @Suffix, @Simulated, @CancelRequested)
        ON CONFLICT (id) DO UPDATE SET
            training_file_id = excluded.training_file_id, validation_file_id = excluded.validation_file_id,
            status = excluded.status, provider_status = excluded.provider_status, provider_job_id = excluded.provider_job_id,
            fine_tuned_model_id = excluded.fine_tuned_model_id, model_id = excluded.model_id,
            training_started_at = excluded.training_started_at, training_completed_at = excluded.training_completed_at,
            training_loss = excluded.training_loss, validation_loss = excluded.validation_loss, training_tokens = excluded.training_tokens,
            actual_cost = excluded.actual_cost, error_message = excluded.error_message, updated_at = excluded.updated_at,
            cancel_requested = excluded.cancel_requested
        WHERE fine_tuning_jobs.organization_id = excluded.organization_id
        """;

    private static object MirrorParameters(TrainingJobInfo job) => new
    {
        job.Id,
        job.OrganizationId,
        job.AgentId,
        job.Name,
        job.BaseModel,
        job.Provider,
        job.TrainingFileId,
        job.ValidationFileId,
        job.Dataset.TrainingExamples,
        job.Dataset.ValidationExamples,
        Status = job.Status.Name(),
        job.ProviderStatus,
        job.ProviderJobId,
        job.FineTunedModel,
        job.ModelId,
        StartedAt = job.StartedAt?.UtcDateTime,
        FinishedAt = job.FinishedAt?.UtcDateTime,
        TrainingLoss = Numeric(job.TrainingLoss),
        ValidationLoss = Numeric(job.ValidationLoss),
        job.TrainedTokens,
        EstimatedCost = Money(job.EstimatedCost.Usd),
        ActualCost = Money(job.ActualCost?.Usd),
        Hyperparameters = System.Text.Json.JsonSerializer.Serialize(job.Hyperparameters),
        ErrorMessage = job.Error?.Message,
        job.CreatedBy,
        CreatedAt = job.CreatedAt.UtcDateTime,
        UpdatedAt = job.UpdatedAt.UtcDateTime,
        job.Dataset.DatasetHash,
        job.Suffix,
        job.Simulated,
        job.CancelRequested,
    };

    // numeric(12, 6) and numeric(12, 4): values outside the column's range are not stored rather than failing the write.
    private static decimal? Numeric(double? value) =>
        value is { } v && double.IsFinite(v) && Math.Abs(v) < 999_999 ? Math.Round((decimal)v, 6) : null;

    private static decimal? Money(decimal? value) =>
        value is { } v && Math.Abs(v) < 99_999_999m ? Math.Round(v, 4) : null;

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    private sealed class ExampleTextRow
    {
        public Guid Id { get; set; }
        public byte[] Hash { get; set; } = [];
        public string Messages { get; set; } = "[]";
        public string? Tools { get; set; }
        public string? Functions { get; set; }
        public bool? ParallelToolCalls { get; set; }
    }

    private sealed class EventRow
    {
        public long Sequence { get; set; }
        public string ProviderEventId { get; set; } = "";
        public DateTime CreatedAt { get; set; }
        public string Level { get; set; } = "";
        public string Type { get; set; } = "";
        public string Message { get; set; } = "";
        public int? Step { get; set; }
        public int? TotalSteps { get; set; }
        public double? TrainLoss { get; set; }
        public double? ValidationLoss { get; set; }
    }

    private sealed class SummaryRow
    {
        public Guid Id { get; set; }
        public Guid? AgentId { get; set; }
        public string Name { get; set; } = "";
        public string BaseModel { get; set; } = "";
        public string Provider { get; set; } = "";
        public string Status { get; set; } = "";
        public string? ProviderJobId { get; set; }
        public string? FineTunedModel { get; set; }
        public Guid? ModelId { get; set; }
        public int TrainingExamples { get; set; }
        public int ValidationExamples { get; set; }
        public long? TrainedTokens { get; set; }
        public decimal? EstimatedCost { get; set; }
        public decimal? ActualCost { get; set; }
        public decimal? TrainingLoss { get; set; }
        public decimal? ValidationLoss { get; set; }
        public string? ErrorMessage { get; set; }
        public DateTime CreatedAt { get; set; }
        public DateTime UpdatedAt { get; set; }
        public DateTime? FinishedAt { get; set; }

        public TrainingJobSummary ToSummary() => new(Id, AgentId, Name, BaseModel, Provider,
            TrainingJobStatuses.Parse(Status) ?? TrainingJobStatus.Preparing, ProviderJobId, FineTunedModel, ModelId, TrainingExamples, ValidationExamples,
            TrainedTokens, EstimatedCost, ActualCost, (double?)TrainingLoss, (double?)ValidationLoss, ErrorMessage, Utc(CreatedAt), Utc(UpdatedAt),
            FinishedAt is { } f ? Utc(f) : null);
    }
}

/// <summary>A job's examples as frozen at its start, and the figures that describe them.</summary>
public sealed record class FrozenDataset(
    IReadOnlyList<(Guid Id, byte[] Hash, string Example)> Training,
    IReadOnlyList<(Guid Id, byte[] Hash, string Example)> Validation,
    JobDataset Summary);
