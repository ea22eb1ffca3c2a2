using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using static ObjectaLabs.Orleans.ProviderEmulators.SimulatedTraining;

namespace ObjectaLabs.Orleans.ProviderEmulators;

/// <summary>
/// The Together files and fine-tuning wire API (togethercomputer/openapi shapes): <c>/v1/files/upload</c>,
/// <c>/v1/fine-tunes</c> with events (not paged), checkpoints, cancel and <c>estimate-price</c>.
/// Timestamps are ISO-8601 strings; a failed job's status is <c>error</c>.
/// </summary>
public sealed class TogetherEmulator(EmulatorOptions options, EmulatorClock clock) : EmulatorBase(options, clock)
{
    /// <summary>The longest suffix the emulator accepts (Together limits suffix length).</summary>
    public const int MaxSuffixLength = 40;

    /// <summary>The emulator's illustrative price per million trained tokens (LoRA, small model).</summary>
    public const decimal PricePerMillionTokens = 0.48m;

    private readonly ConcurrentDictionary<string, StoredFile> _files = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TogetherJob> _jobs = new(StringComparer.Ordinal);
    private long _sequence;

    protected override string ProviderName => "Together";

    protected override string PermissionDeniedMessage => "Your account is not allowed to create fine-tuning jobs.";

    public IReadOnlyList<TogetherJob> Jobs => [.. _jobs.Values.OrderBy(j => j.Sequence)];

    public IReadOnlyList<StoredFile> Files => [.. _files.Values.OrderBy(f => f.CreatedAt)];

    protected override JsonArray JobsForControl() => [.. Jobs.Select(j => (JsonNode)Locked(j, Render))];

    protected override void MapApi(WebApplication app)
    {
        var v1 = app.MapGroup("/v1");
        v1.MapPost("/files/upload", (Delegate)UploadAsync);
        v1.MapGet("/files", () => Json(new JsonObject { ["object"] = "list", ["data"] = new JsonArray([.. Files.Select(f => (JsonNode)RenderFile(f))]) }));
        v1.MapGet("/files/{id}", (string id) => _files.TryGetValue(id, out var f) ? Json(RenderFile(f)) : Error(404, $"File {id} not found", code: "not_found"));
        v1.MapGet("/files/{id}/content", (string id) => _files.TryGetValue(id, out var f) ? Results.Bytes(f.Content, "application/octet-stream") : Error(404, $"File {id} not found", code: "not_found"));
        v1.MapPost("/fine-tunes", (Delegate)CreateAsync);
        v1.MapPost("/fine-tunes/estimate-price", (Delegate)EstimateAsync);
        v1.MapGet("/fine-tunes", () => Json(new JsonObject { ["data"] = new JsonArray([.. Jobs.Select(j => (JsonNode)Locked(j, Render))]) }));
        v1.MapGet("/fine-tunes/{id}", (string id) => WithJob(id, j => Json(Render(j))));
        v1.MapPost("/fine-tunes/{id}/cancel", (string id) => WithJob(id, Cancel));
        v1.MapGet("/fine-tunes/{id}/events", (string id) => WithJob(id, j => Json(new JsonObject { ["data"] = new JsonArray([.. j.Events.Select(e => e.DeepClone())]) })));
        v1.MapGet("/fine-tunes/{id}/checkpoints", (string id) => WithJob(id, j => Json(new JsonObject { ["data"] = new JsonArray([.. j.Checkpoints.Select(e => e.DeepClone())]) })));
    }

    private async Task<IResult> UploadAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType)
        {
            return Error(400, "The request must be multipart/form-data with 'file', 'file_name' and 'purpose'.");
        }
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        if (form["purpose"].ToString() is not ("fine-tune" or "eval"))
        {
            return Error(400, "purpose must be 'fine-tune' or 'eval'", param: "purpose");
        }
        if (form.Files["file"] is not { } upload)
        {
            return Error(400, "file is required", param: "file");
        }
        using var buffer = new MemoryStream();
        await upload.CopyToAsync(buffer, context.RequestAborted);
        var name = form["file_name"].ToString() is { Length: > 0 } n ? n : upload.FileName;
        var file = new StoredFile("file-" + Guid.NewGuid().ToString("D"), name, "fine-tune", buffer.ToArray(), Clock.Now);
        _files[file.Id] = file;
        return Json(RenderFile(file));
    }

    private async Task<(JsonObject? Body, IResult? Error)> ReadCreateAsync(HttpContext context)
    {
        JsonObject body;
        try
        {
            body = JsonNode.Parse(await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted)) as JsonObject
                ?? throw new JsonException("not an object");
        }
        catch (JsonException)
        {
            return (null, Error(400, "Invalid JSON body"));
        }
        if (string.IsNullOrEmpty((string?)body["model"]))
        {
            return (null, Error(400, "model is required", param: "model"));
        }
        if ((string?)body["training_file"] is not { } training || !_files.ContainsKey(training))
        {
            return (null, Error(400, $"training_file {(string?)body["training_file"]} does not exist", param: "training_file", code: "invalid_file"));
        }
        if ((string?)body["validation_file"] is { Length: > 0 } validation && !_files.ContainsKey(validation))
        {
            return (null, Error(400, $"validation_file {validation} does not exist", param: "validation_file", code: "invalid_file"));
        }
        if (((string?)body["suffix"])?.Length > MaxSuffixLength)
        {
            return (null, Error(400, $"suffix must be at most {MaxSuffixLength} characters", param: "suffix"));
        }
        if (body["batch_size"] is JsonValue b && !(b.TryGetValue<int>(out var size) ? size > 0 : b.TryGetValue<string>(out var max) && max == "max"))
        {
            return (null, Error(400, "batch_size must be a positive integer or 'max'", param: "batch_size"));
        }
        return (body, null);
    }

    private async Task<IResult> CreateAsync(HttpContext context)
    {
        var (body, error) = await ReadCreateAsync(context);
        if (error is not null)
        {
            return error;
        }
        var failure = TakeJobFailure(context.Request.Path);
        var training = _files[(string)body!["training_file"]!];
        var epochs = body["n_epochs"] is JsonValue e && e.TryGetValue<int>(out var n) ? n : 1;
        var id = "ft-" + Guid.NewGuid().ToString("D");
        var model = (string)body["model"]!;
        var suffix = (string?)body["suffix"];
        var job = new TogetherJob
        {
            Id = id,
            Sequence = Interlocked.Increment(ref _sequence),
            Request = body,
            Model = model,
            Suffix = suffix,
            TrainingFile = training,
            Epochs = epochs,
            CreatedAt = Clock.Now,
            UpdatedAt = Clock.Now,
            OutputName = $"emulator/{model.Split('/')[^1]}{(suffix is null ? "" : "-" + suffix)}-{id[3..11]}",
            FailAtStep = failure is null ? null : Math.Max(1, Options.TotalSteps / 2),
            FailMessage = failure?.Message ?? "Training failed: the training file could not be tokenized.",
        };
        AddEvent(job, job.CreatedAt, "info", "job_pending", "Fine-tune request created", 0);
        _jobs[id] = job;
        return Json(Locked(job, Render));
    }

    private async Task<IResult> EstimateAsync(HttpContext context)
    {
        var (body, error) = await ReadCreateAsync(context);
        if (error is not null)
        {
            return error;
        }
        var training = _files[(string)body!["training_file"]!];
        var epochs = body["n_epochs"] is JsonValue e && e.TryGetValue<int>(out var n) ? n : 1;
        var evals = body["n_evals"] is JsonValue v && v.TryGetValue<int>(out var m) ? m : 0;
        var evalTokens = (string?)body["validation_file"] is { Length: > 0 } vf ? _files[vf].Content.Length / 4L * evals : 0;
        var trainTokens = TrainedTokens(training, epochs);
        var price = Math.Round((trainTokens + evalTokens) * PricePerMillionTokens / 1_000_000m, 6);
        return Json(new JsonObject
        {
            ["estimation_available"] = true,
            ["estimated_total_price"] = price,
            ["allowed_to_proceed"] = true,
            ["user_limit"] = 100,
            ["estimated_train_token_count"] = trainTokens,
            ["estimated_eval_token_count"] = evalTokens,
        });
    }

    private static T Locked<T>(TogetherJob job, Func<TogetherJob, T> read)
    {
        lock (job)
        {
            return read(job);
        }
    }

    private IResult WithJob(string id, Func<TogetherJob, IResult> answer)
    {
        if (!_jobs.TryGetValue(id, out var job))
        {
            return Error(404, $"Fine-tune job {id} not found", code: "not_found");
        }
        lock (job)
        {
            Materialize(job);
            return answer(job);
        }
    }

    private IResult Cancel(TogetherJob job)
    {
        if (job.Status is "completed" or "error" or "cancelled")
        {
            return Error(400, $"Fine-tune job {job.Id} is {job.Status} and cannot be cancelled", code: "invalid_state");
        }
        job.Status = "cancel_requested";
        job.CancelRequestedAt = Clock.Now;
        job.UpdatedAt = Clock.Now;
        AddEvent(job, Clock.Now, "info", "cancel_requested", "Cancel requested", job.Step);
        return Json(Render(job));
    }

    private void Materialize(TogetherJob job)
    {
        if (job.Status is "completed" or "error" or "cancelled")
        {
            return;
        }
        var now = Clock.Now;
        if (job.CancelRequestedAt is { } cancelAt)
        {
            if (now - cancelAt >= Options.Tick)
            {
                job.Status = "cancelled";
                job.UpdatedAt = cancelAt + Options.Tick;
                AddEvent(job, job.UpdatedAt, "info", "cancelled", "Fine-tune job cancelled", job.Step);
            }
            return;
        }
        var ticks = (long)Math.Floor((now - job.CreatedAt) / Options.Tick);
        var total = Options.TotalSteps;
        var epochs = Math.Clamp(job.Epochs, 1, total);
        var checkpoints = CheckpointSteps(total, epochs);
        for (var t = job.MaterializedTicks + 1; t <= ticks; t++)
        {
            var at = job.CreatedAt + Options.Tick * t;
            var (phase, step) = At(t, total, job.FailAtStep, finalizingTicks: 2);
            job.UpdatedAt = at;
            switch (phase)
            {
                case TrainingPhase.Queued:
                    job.Status = "queued";
                    AddEvent(job, at, "info", "job_start", "Job started", 0);
                    break;
                case TrainingPhase.Running:
                    if (step == 1)
                    {
                        job.Status = "running";
                        job.StartedAt = at;
                        AddEvent(job, at, "info", "model_downloading", "Downloading model", 0);
                        AddEvent(job, at, "info", "training_start", "Training started", 0);
                    }
                    job.Step = step;
                    if (checkpoints.Contains(step) || step % Math.Max(1, total / epochs) == 0)
                    {
                        var train = TrainLoss(job.Id, step, total);
                        var valid = ValidationLoss(job.Id, step, total);
                        job.EpochsCompleted++;
                        AddEvent(job, at, "info", "epoch_complete",
                            string.Create(CultureInfo.InvariantCulture, $"Epoch completed, at step {step}: training loss={train:0.0000}, validation loss={valid:0.0000}"), step);
                        if (checkpoints.Contains(step))
                        {
                            var path = $"s3://emulator/{job.Id}/checkpoint-{step}";
                            job.Checkpoints.Add(new JsonObject
                            {
                                ["step"] = step,
                                ["created_at"] = Iso(at),
                                ["path"] = path,
                                ["checkpoint_type"] = step == total ? "Final" : "Intermediate",
                            });
                            AddEvent(job, at, "info", "checkpoint_save", $"Checkpoint saved at step {step}", step, path);
                        }
                    }
                    break;
                case TrainingPhase.Failed:
                    job.Status = "error";
                    job.Step = step;
                    AddEvent(job, at, "error", "job_error", job.FailMessage, step);
                    job.MaterializedTicks = ticks;
                    return;
                case TrainingPhase.Finalizing:
                    if (job.Status == "running")
                    {
                        job.Status = "compressing";
                        AddEvent(job, at, "info", "training_complete", "Training completed", total);
                        AddEvent(job, at, "info", "model_compressing", "Compressing output model", total);
                    }
                    else if (job.Status == "compressing")
                    {
                        job.Status = "uploading";
                        AddEvent(job, at, "info", "model_uploading", "Uploading output model", total);
                    }
                    break;
                case TrainingPhase.Succeeded:
                    job.Status = "completed";
                    job.TokenCount = TrainedTokens(job.TrainingFile, job.Epochs);
                    AddEvent(job, at, "info", "model_upload_complete", "Model upload complete", total);
                    AddEvent(job, at, "info", "job_complete", $"Fine-tune job completed: {job.OutputName}", total);
                    job.MaterializedTicks = ticks;
                    return;
            }
        }
        job.MaterializedTicks = Math.Max(job.MaterializedTicks, ticks);
    }

    private static void AddEvent(TogetherJob job, DateTimeOffset at, string level, string type, string message, int step, string checkpointPath = "") =>
        job.Events.Add(new JsonObject
        {
            ["object"] = "fine-tune-event",
            ["created_at"] = Iso(at),
            ["level"] = level,
            ["message"] = message,
            ["type"] = type,
            ["param_count"] = 0,
            ["token_count"] = 0,
            ["total_steps"] = 0,
            ["wandb_url"] = "",
            ["step"] = step,
            ["checkpoint_path"] = checkpointPath,
            ["model_path"] = "",
            ["training_offset"] = 0,
            ["hash"] = "",
        });

    private static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static JsonObject RenderFile(StoredFile f) => new()
    {
        ["id"] = f.Id,
        ["object"] = "file",
        ["created_at"] = Unix(f.CreatedAt),
        ["purpose"] = f.Purpose,
        ["filename"] = f.FileName,
        ["bytes"] = f.Content.Length,
        ["line_count"] = f.Lines,
        ["processed"] = true,
        ["FileType"] = "jsonl",
    };

    private JsonObject Render(TogetherJob job)
    {
        var request = job.Request;
        var remaining = job.Status is "completed" or "error" or "cancelled" ? 0
            : Math.Max(0, (SimulatedTraining.TicksBeforeTraining + Options.TotalSteps + 2) * Options.Tick.TotalSeconds - (Clock.Now - job.CreatedAt).TotalSeconds);
        return new JsonObject
        {
            ["id"] = job.Id,
            ["status"] = job.Status,
            ["created_at"] = Iso(job.CreatedAt),
            ["updated_at"] = Iso(job.UpdatedAt),
            ["started_at"] = job.StartedAt is { } s ? Iso(s) : null,
            ["model"] = job.Model,
            ["model_output_name"] = job.OutputName,
            ["suffix"] = job.Suffix,
            ["training_file"] = job.TrainingFile.Id,
            ["validation_file"] = (string?)request["validation_file"] ?? "",
            ["n_epochs"] = job.Epochs,
            ["n_checkpoints"] = request["n_checkpoints"]?.DeepClone() ?? 1,
            ["n_evals"] = request["n_evals"]?.DeepClone() ?? 0,
            ["batch_size"] = request["batch_size"] is JsonValue b && b.TryGetValue<int>(out var size) ? size : 8,
            ["learning_rate"] = request["learning_rate"]?.DeepClone() ?? 0.00001,
            ["random_seed"] = request["random_seed"]?.DeepClone(),
            ["training_method"] = request["training_method"]?.DeepClone() ?? new JsonObject { ["method"] = "sft", ["train_on_inputs"] = "auto" },
            ["training_type"] = request["training_type"]?.DeepClone()
                ?? new JsonObject { ["type"] = "Lora", ["lora_r"] = 8, ["lora_alpha"] = 16, ["lora_dropout"] = 0.0, ["lora_trainable_modules"] = "all-linear" },
            ["token_count"] = job.TokenCount,
            ["param_count"] = 8_000_000_000L,
            ["total_price"] = job.TokenCount is { } t ? (long)Math.Round(t * PricePerMillionTokens / 1_000_000m * 1_000_000_000m) : 0,
            ["epochs_completed"] = job.EpochsCompleted,
            ["queue_depth"] = job.Status is "pending" or "queued" ? 1 : 0,
            ["events"] = new JsonArray(),
            ["progress"] = new JsonObject { ["estimate_available"] = true, ["seconds_remaining"] = (long)remaining },
        };
    }
}

/// <summary>One simulated Together job (guarded by locking the instance).</summary>
public sealed class TogetherJob
{
    public required string Id { get; init; }
    public required long Sequence { get; init; }
    public required JsonObject Request { get; init; }
    public required string Model { get; init; }
    public string? Suffix { get; init; }
    public required StoredFile TrainingFile { get; init; }
    public int Epochs { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public required string OutputName { get; init; }
    public int? FailAtStep { get; init; }
    public string FailMessage { get; init; } = "";
    public string Status { get; set; } = "pending";
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? CancelRequestedAt { get; set; }
    public int Step { get; set; }
    public int EpochsCompleted { get; set; }
    public long? TokenCount { get; set; }
    public long MaterializedTicks { get; set; }
    public List<JsonObject> Events { get; } = [];
    public List<JsonObject> Checkpoints { get; } = [];
}
