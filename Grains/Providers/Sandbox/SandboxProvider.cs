using System.Globalization;
using System.Security.Cryptography;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using ObjectaLabs.Orleans.Providers.Accounts;

namespace ObjectaLabs.Orleans.Providers.Sandbox;

/// <summary>
/// A simulated fine-tuning provider that runs in the silo, so the platform trains end to end with no provider
/// key. Nothing is trained: a job's state, loss curve, events and checkpoints are derived from its stored
/// <c>created_at</c>, its stored timing and the clock, so they survive a crashed silo and every silo answers the
/// same. Everything it returns says it is simulated: ids start <c>sandbox-simulated-</c>, models
/// <c>ft:sandbox-simulated:</c>, and every event message begins "[simulated]".
/// </summary>
public sealed class SandboxProvider(NpgsqlDataSource dataSource, IOptions<SandboxProviderOptions> options, TimeProvider time) : IFineTuningProvider
{
    /// <summary>A suffix containing this fails the job half way through training.</summary>
    public const string FailSwitch = "simulate-fail";

    /// <summary>A suffix containing this makes every phase <see cref="SandboxProviderOptions.SlowFactor"/> times longer.</summary>
    public const string SlowSwitch = "simulate-slow";

    public const string SimulatedFailureMessage = "[simulated] Training failed: the sandbox was asked to fail this job (suffix contains 'simulate-fail').";

    public string Name => ProviderNames.Sandbox;

    public bool QuotesPrices => false;

    public async Task<ProviderFile> UploadFileAsync(ProviderAccount account, string fileName, Func<Stream, CancellationToken, Task> writeContent, string sha256, CancellationToken cancellationToken)
    {
        await using var counter = new CountingStream();
        await writeContent(counter, cancellationToken);
        var file = new ProviderFile("file-sandbox-simulated-" + Guid.NewGuid().ToString("N"), ProviderFileNames.WithHash(fileName, sha256), counter.Length, time.GetUtcNow());
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO sandbox_files (id, file_name, sha256, bytes, created_at) VALUES (@Id, @FileName, @sha, @Bytes, @at)",
            new { file.Id, file.FileName, sha = sha256.ToLowerInvariant(), file.Bytes, at = file.CreatedAt!.Value.UtcDateTime }, cancellationToken: cancellationToken));
        return file;
    }

    public async Task<ProviderFile?> FindFileAsync(ProviderAccount account, string fileName, string sha256, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var row = await connection.QueryFirstOrDefaultAsync<(string? Id, string FileName, long Bytes, DateTime CreatedAt)>(new CommandDefinition(
            "SELECT id, file_name, bytes, created_at FROM sandbox_files WHERE file_name = @name AND sha256 = @sha ORDER BY created_at LIMIT 1",
            new { name = ProviderFileNames.WithHash(fileName, sha256), sha = sha256.ToLowerInvariant() }, cancellationToken: cancellationToken));
        return row.Id is { } id ? new ProviderFile(id, row.FileName, row.Bytes, Utc(row.CreatedAt)) : null;
    }

    public async Task<ProviderJob> CreateJobAsync(ProviderAccount account, ProviderJobRequest request, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var suffix = request.Suffix ?? "";
        var slow = suffix.Contains(SlowSwitch, StringComparison.OrdinalIgnoreCase) ? o.SlowFactor : 1;
        var epochs = request.Hyperparameters.Epochs ?? o.DefaultEpochs;
        var totalSteps = epochs * o.StepsPerEpoch;
        var row = new JobRow
        {
            Id = "ftjob-sandbox-simulated-" + Guid.NewGuid().ToString("N"),
            Reference = request.Reference,
            Model = request.ProviderModel,
            Suffix = request.Suffix,
            TrainingFileId = request.TrainingFileId,
            ValidationFileId = request.ValidationFileId,
            Epochs = epochs,
            TotalSteps = totalSteps,
            ValidatingMs = (long)o.ValidatingDuration.TotalMilliseconds * slow,
            QueuedMs = (long)o.QueuedDuration.TotalMilliseconds * slow,
            StepMs = Math.Max(1, (long)o.StepDuration.TotalMilliseconds * slow),
            FailAtStep = suffix.Contains(FailSwitch, StringComparison.OrdinalIgnoreCase) ? Math.Max(1, totalSteps / 2) : null,
            TrainingTokens = request.TrainingTokens,
            CreatedAt = time.GetUtcNow().UtcDateTime,
        };
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // One job per reference, like a provider that honours an idempotency key: a repeated create answers the first job.
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO sandbox_jobs (id, reference, model, suffix, training_file_id, validation_file_id, epochs, total_steps,
                                      validating_ms, queued_ms, step_ms, fail_at_step, training_tokens, created_at)
            VALUES (@Id, @Reference, @Model, @Suffix, @TrainingFileId, @ValidationFileId, @Epochs, @TotalSteps,
                    @ValidatingMs, @QueuedMs, @StepMs, @FailAtStep, @TrainingTokens, @CreatedAt)
            ON CONFLICT (reference) DO NOTHING
            """, row, cancellationToken: cancellationToken));
        return Describe(await LoadByAsync(connection, "reference", request.Reference, cancellationToken)
            ?? throw new ProviderException(ProviderFaultKind.Transient, Name, "[simulated] The sandbox job vanished after creation."));
    }

    public async Task<ProviderJob?> FindJobByReferenceAsync(ProviderAccount account, string reference, string? suffix, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var row = await LoadByAsync(connection, "reference", reference, cancellationToken);
        return row is null ? null : Describe(row);
    }

    public async Task<ProviderJob> GetJobAsync(ProviderAccount account, string providerJobId, CancellationToken cancellationToken) =>
        Describe(await RequireAsync(providerJobId, cancellationToken));

    public async Task<ProviderEventPage> ListEventsAsync(ProviderAccount account, string providerJobId, string? afterCursor, CancellationToken cancellationToken)
    {
        var row = await RequireAsync(providerJobId, cancellationToken);
        var all = Events(row, time.GetUtcNow());
        var start = afterCursor is not null && int.TryParse(afterCursor, NumberStyles.None, CultureInfo.InvariantCulture, out var after) ? after + 1 : 0;
        var page = all.Skip(start).Take(100).ToList();
        return new ProviderEventPage(page, page.Count > 0 ? (start + page.Count - 1).ToString(CultureInfo.InvariantCulture) : afterCursor);
    }

    public async Task<IReadOnlyList<ProviderCheckpoint>> ListCheckpointsAsync(ProviderAccount account, string providerJobId, CancellationToken cancellationToken)
    {
        var row = await RequireAsync(providerJobId, cancellationToken);
        var snapshot = Snapshot.Of(row, time.GetUtcNow());
        var perEpoch = row.TotalSteps / row.Epochs;
        return [.. Enumerable.Range(1, row.Epochs)
            .Select(e => e * perEpoch)
            .Where(step => step <= snapshot.Step)
            .Select(step => new ProviderCheckpoint(
                $"ftckpt-sandbox-simulated-{row.Id[^12..]}-{step}", StepTime(row, step), step,
                $"{ModelId(row)}:ckpt-step-{step}", TrainLoss(row, step), ValidationLoss(row, step)))];
    }

    public async Task<ProviderJob> CancelJobAsync(ProviderAccount account, string providerJobId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var row = await LoadByAsync(connection, "id", providerJobId, cancellationToken)
            ?? throw new ProviderException(ProviderFaultKind.NotFound, Name, $"[simulated] No sandbox job '{providerJobId}'.", 404);
        var now = time.GetUtcNow();
        if (!Snapshot.Of(row, now).Status.IsFinal())
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE sandbox_jobs SET cancelled_at = @at WHERE id = @id AND cancelled_at IS NULL",
                new { id = providerJobId, at = now.UtcDateTime }, cancellationToken: cancellationToken));
            row = await LoadByAsync(connection, "id", providerJobId, cancellationToken) ?? row;
        }
        return Describe(row);
    }

    /// <summary>The sandbox is free: nothing is trained.</summary>
    public Task<ProviderPriceEstimate?> EstimatePriceAsync(ProviderAccount account, ProviderJobRequest request, CancellationToken cancellationToken) =>
        Task.FromResult<ProviderPriceEstimate?>(new ProviderPriceEstimate(0m, request.TrainingTokens * (request.Hyperparameters.Epochs ?? options.Value.DefaultEpochs), request.ValidationTokens, true));

    private ProviderJob Describe(JobRow row)
    {
        var now = time.GetUtcNow();
        var s = Snapshot.Of(row, now);
        var created = Utc(row.CreatedAt);
        var started = created.AddMilliseconds(row.ValidatingMs + row.QueuedMs);
        var finish = started.AddMilliseconds(row.StepMs * row.TotalSteps);
        return new ProviderJob(
            row.Id,
            s.RawStatus,
            s.Status,
            s.Status == ProviderJobStatus.Succeeded ? ModelId(row) : null,
            s.Status == ProviderJobStatus.Succeeded ? row.TrainingTokens * row.Epochs : null,
            s.Status == ProviderJobStatus.Failed ? "simulated_failure" : null,
            s.Status == ProviderJobStatus.Failed ? SimulatedFailureMessage : null,
            created,
            s.Status is ProviderJobStatus.Running or ProviderJobStatus.Succeeded or ProviderJobStatus.Failed ? started : null,
            s.FinishedAt,
            s.Status.IsFinal() ? null : finish,
            s.Step,
            row.TotalSteps,
            s.Status == ProviderJobStatus.Succeeded ? 0m : null,
            row.Reference);
    }

    private List<ProviderEvent> Events(JobRow row, DateTimeOffset now)
    {
        var s = Snapshot.Of(row, now);
        var created = Utc(row.CreatedAt);
        var events = new List<ProviderEvent>
        {
            new($"{row.Id}-created", created, "info", "message", "[simulated] Job created.", null, null, null, null),
        };
        if (s.Status == ProviderJobStatus.Validating) { return events; }
        if (row.CancelledAt is null || Utc(row.CancelledAt.Value) >= created.AddMilliseconds(row.ValidatingMs))
        {
            events.Add(new($"{row.Id}-validated", created.AddMilliseconds(row.ValidatingMs), "info", "message", "[simulated] Files validated.", null, null, null, null));
        }
        var running = s.Step > 0 || s.Status is ProviderJobStatus.Running;
        if (running)
        {
            events.Add(new($"{row.Id}-started", StepTime(row, 0), "info", "message", "[simulated] Training started.", 0, row.TotalSteps, null, null));
        }
        for (var step = 1; step <= s.Step; step++)
        {
            events.Add(new($"{row.Id}-step-{step}", StepTime(row, step), "info", "metrics",
                $"[simulated] Step {step}/{row.TotalSteps}: training loss {TrainLoss(row, step):F4}", step, row.TotalSteps, TrainLoss(row, step), ValidationLoss(row, step)));
        }
        switch (s.Status)
        {
            case ProviderJobStatus.Succeeded:
                events.Add(new($"{row.Id}-succeeded", s.FinishedAt!.Value, "info", "message", $"[simulated] Job succeeded: {ModelId(row)}.", row.TotalSteps, row.TotalSteps, null, null));
                break;
            case ProviderJobStatus.Failed:
                events.Add(new($"{row.Id}-failed", s.FinishedAt!.Value, "error", "message", SimulatedFailureMessage, s.Step, row.TotalSteps, null, null));
                break;
            case ProviderJobStatus.Cancelled:
                events.Add(new($"{row.Id}-cancelled", s.FinishedAt!.Value, "info", "message", "[simulated] Job cancelled.", s.Step, row.TotalSteps, null, null));
                break;
        }
        return events;
    }

    /// <summary>A falling curve from about 2.8 towards 0.3, with a small deterministic wobble per job and step.</summary>
    private static double TrainLoss(JobRow row, int step)
    {
        var x = (double)step / row.TotalSteps;
        return Math.Round(0.3 + (2.5 * Math.Exp(-3.0 * x)) + (0.04 * Wobble(row.Id, step)), 4);
    }

    private static double? ValidationLoss(JobRow row, int step) =>
        row.ValidationFileId is null ? null : Math.Round(TrainLoss(row, step) + 0.08 + (0.03 * Wobble(row.Id, -step)), 4);

    private static double Wobble(string id, int step)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{id}:{step}"), hash);
        return (hash[0] / 255.0) - 0.5;
    }

    private static string ModelId(JobRow row)
    {
        var model = row.Model.Replace(':', '-');
        var suffix = string.IsNullOrEmpty(row.Suffix) ? "" : ":" + row.Suffix.Replace(':', '-');
        return $"ft:sandbox-simulated:{model}{suffix}:{row.Id[^12..]}";
    }

    private static DateTimeOffset StepTime(JobRow row, int step) =>
        Utc(row.CreatedAt).AddMilliseconds(row.ValidatingMs + row.QueuedMs + (row.StepMs * step));

    private async Task<JobRow> RequireAsync(string providerJobId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await LoadByAsync(connection, "id", providerJobId, cancellationToken)
            ?? throw new ProviderException(ProviderFaultKind.NotFound, Name, $"[simulated] No sandbox job '{providerJobId}'.", 404);
    }

    private static Task<JobRow?> LoadByAsync(NpgsqlConnection connection, string column, string value, CancellationToken cancellationToken) =>
        connection.QueryFirstOrDefaultAsync<JobRow?>(new CommandDefinition(
            $"""
            SELECT id AS Id, reference AS Reference, model AS Model, suffix AS Suffix, training_file_id AS TrainingFileId,
                   validation_file_id AS ValidationFileId, epochs AS Epochs, total_steps AS TotalSteps, validating_ms AS ValidatingMs,
                   queued_ms AS QueuedMs, step_ms AS StepMs, fail_at_step AS FailAtStep, training_tokens AS TrainingTokens,
                   created_at AS CreatedAt, cancelled_at AS CancelledAt
            FROM sandbox_jobs WHERE {(column == "id" ? "id" : "reference")} = @value
            """, new { value }, cancellationToken: cancellationToken));

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    /// <summary>Where a job stands at an instant, derived only from its row and that instant.</summary>
    private readonly record struct Snapshot(ProviderJobStatus Status, string RawStatus, int Step, DateTimeOffset? FinishedAt)
    {
        public static Snapshot Of(JobRow row, DateTimeOffset now)
        {
            var created = Utc(row.CreatedAt);
            var at = row.CancelledAt is { } c && Utc(c) < now ? Utc(c) : now;
            var elapsed = (long)(at - created).TotalMilliseconds;
            var runStart = row.ValidatingMs + row.QueuedMs;
            var step = elapsed < runStart ? 0 : (int)Math.Min(row.TotalSteps, (elapsed - runStart) / row.StepMs);
            if (row.FailAtStep is { } fail && step >= fail)
            {
                return new(ProviderJobStatus.Failed, "failed", fail, StepTime(row, fail));
            }
            if (row.CancelledAt is { } cancelled && Utc(cancelled) < now && step < row.TotalSteps)
            {
                return new(ProviderJobStatus.Cancelled, "cancelled", step, Utc(cancelled));
            }
            if (step >= row.TotalSteps)
            {
                return new(ProviderJobStatus.Succeeded, "succeeded", row.TotalSteps, StepTime(row, row.TotalSteps));
            }
            return elapsed < row.ValidatingMs ? new(ProviderJobStatus.Validating, "validating_files", 0, null)
                : elapsed < runStart ? new(ProviderJobStatus.Queued, "queued", 0, null)
                : new(ProviderJobStatus.Running, "running", step, null);
        }
    }

    private sealed class JobRow
    {
        public string Id { get; init; } = "";
        public string Reference { get; init; } = "";
        public string Model { get; init; } = "";
        public string? Suffix { get; init; }
        public string TrainingFileId { get; init; } = "";
        public string? ValidationFileId { get; init; }
        public int Epochs { get; init; }
        public int TotalSteps { get; init; }
        public long ValidatingMs { get; init; }
        public long QueuedMs { get; init; }
        public long StepMs { get; init; }
        public int? FailAtStep { get; init; }
        public long TrainingTokens { get; init; }
        public DateTime CreatedAt { get; init; }
        public DateTime? CancelledAt { get; init; }
    }

    /// <summary>Counts the bytes written and keeps none (the sandbox trains nothing on them).</summary>
    private sealed class CountingStream : Stream
    {
        private long _length;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => _length += count;
        public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _length += buffer.Length;
            return ValueTask.CompletedTask;
        }
    }
}

public static class ProviderJobStatusExtensions
{
    public static bool IsFinal(this ProviderJobStatus status) =>
        status is ProviderJobStatus.Succeeded or ProviderJobStatus.Failed or ProviderJobStatus.Cancelled;
}
