using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using static ObjectaLabs.Orleans.ProviderEmulators.SimulatedTraining;

namespace ObjectaLabs.Orleans.ProviderEmulators;

/// <summary>
/// The OpenAI files and fine-tuning wire API (openai-openapi shapes): <c>/v1/files</c> and
/// <c>/v1/fine_tuning/jobs</c> with events (newest first, <c>after</c>-paged), checkpoints, cancel,
/// pause and resume, and result files; lists filter by <c>metadata[k]=v</c>.
/// </summary>
public sealed class OpenAiEmulator(EmulatorOptions options, EmulatorClock clock) : EmulatorBase(options, clock)
{
    private readonly ConcurrentDictionary<string, StoredFile> _files = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, OpenAiJob> _jobs = new(StringComparer.Ordinal);
    private long _sequence;

    protected override string ProviderName => "OpenAI";

    protected override string PermissionDeniedMessage =>
        "Fine-tuning is not available for your organization. OpenAI no longer accepts new fine-tuning jobs from organizations without prior fine-tuning activity.";

    /// <summary>Every job created so far.</summary>
    public IReadOnlyList<OpenAiJob> Jobs => [.. _jobs.Values.OrderBy(j => j.Sequence)];

    /// <summary>Every file uploaded so far.</summary>
    public IReadOnlyList<StoredFile> Files => [.. _files.Values.OrderBy(f => f.CreatedAt)];

    protected override JsonArray JobsForControl() => [.. Jobs.Select(j => (JsonNode)Render(j))];

    protected override void MapApi(WebApplication app)
    {
        var v1 = app.MapGroup("/v1");
        v1.MapPost("/files", (Delegate)UploadAsync);
        v1.MapGet("/files", ListFiles);
        v1.MapGet("/files/{id}", (string id) => _files.TryGetValue(id, out var f) ? Json(RenderFile(f)) : NoSuchFile(id));
        v1.MapGet("/files/{id}/content", (string id) => _files.TryGetValue(id, out var f) ? Results.Bytes(f.Content, "application/octet-stream") : NoSuchFile(id));
        v1.MapDelete("/files/{id}", (string id) => _files.TryRemove(id, out _)
            ? Json(new JsonObject { ["id"] = id, ["object"] = "file", ["deleted"] = true })
            : NoSuchFile(id));
        v1.MapPost("/fine_tuning/jobs", (Delegate)CreateAsync);
        v1.MapGet("/fine_tuning/jobs", ListJobs);
        v1.MapGet("/fine_tuning/jobs/{id}", (string id) => WithJob(id, Render));
        v1.MapPost("/fine_tuning/jobs/{id}/cancel", (string id) => Change(id, Cancel));
        v1.MapPost("/fine_tuning/jobs/{id}/pause", (string id) => Change(id, Pause));
        v1.MapPost("/fine_tuning/jobs/{id}/resume", (string id) => Change(id, Resume));
        v1.MapGet("/fine_tuning/jobs/{id}/events", (string id, string? after, int? limit) => WithJob(id, j => Page(j.Events, after, limit ?? 20, withEnds: false)));
        v1.MapGet("/fine_tuning/jobs/{id}/checkpoints", (string id, string? after, int? limit) => WithJob(id, j => Page(j.Checkpoints, after, limit ?? 10, withEnds: true)));
        v1.MapPost("/embeddings", (Delegate)EmbeddingsAsync);
    }

    /// <summary>
    /// Simulated embeddings: each input's words (lower case, cut to their first five letters, a crude stem) hashed into
    /// <c>dimensions</c> buckets (default 256) and scaled to length 1, so texts sharing words are near and others are
    /// not. Nothing learned; the answer's model says "(simulated)". Floats or base64 (little-endian float32), as asked.
    /// </summary>
    private async Task<IResult> EmbeddingsAsync(HttpContext context)
    {
        var (body, model, refusal) = await ReadWithModelAsync(context);
        if (refusal is not null)
        {
            return refusal;
        }
        var inputs = body["input"] switch
        {
            JsonValue v when v.TryGetValue<string>(out var one) => [one],
            JsonArray a when a.All(n => n is JsonValue x && x.TryGetValue<string>(out _)) => a.Select(n => (string)n!).ToList(),
            _ => null,
        };
        if (inputs is null || inputs.Count is 0 or > 2048)
        {
            return Error(400, "'input' is a string or an array of 1 to 2048 strings.", param: "input");
        }
        var dimensions = body["dimensions"] is JsonValue d && d.TryGetValue<int>(out var n) ? n : 256;
        if (dimensions is < 1 or > 3072)
        {
            return Error(400, "'dimensions' must be between 1 and 3072.", param: "dimensions");
        }
        var base64 = (string?)body["encoding_format"] == "base64";
        var data = new JsonArray();
        var tokens = 0;
        for (var i = 0; i < inputs.Count; i++)
        {
            var vector = SimulatedEmbedding(inputs[i], dimensions, ref tokens);
            JsonNode embedding = base64
                ? JsonValue.Create(Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(vector.AsSpan())))
                : new JsonArray([.. vector.Select(x => (JsonNode?)JsonValue.Create(x))]);
            data.Add(new JsonObject { ["object"] = "embedding", ["index"] = i, ["embedding"] = embedding });
        }
        return Json(new JsonObject
        {
            ["object"] = "list",
            ["data"] = data,
            ["model"] = $"{model} (simulated)",
            ["usage"] = new JsonObject { ["prompt_tokens"] = tokens, ["total_tokens"] = tokens },
        });
    }

    // Words too common to say anything (a few English function words), left out of the simulated vectors.
    private static readonly HashSet<string> CommonWords = new(StringComparer.Ordinal)
    {
        "the", "and", "for", "you", "your", "can", "how", "what", "why", "with", "this", "that", "are", "was", "but",
        "not", "have", "has", "does", "did", "will", "from", "after", "before", "please", "get", "got", "want", "need",
    };

    private static float[] SimulatedEmbedding(string text, int dimensions, ref int tokens)
    {
        var vector = new float[dimensions];
        foreach (var word in System.Text.RegularExpressions.Regex.Split(text.ToLowerInvariant(), @"[^\p{L}\p{N}]+").Where(w => w.Length > 2 && !CommonWords.Contains(w)))
        {
            tokens++;
            var stem = word.Length > 5 ? word[..5] : word;
            var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(stem));
            vector[(int)(BitConverter.ToUInt32(hash, 0) % (uint)dimensions)] += (hash[4] & 1) == 0 ? 1 : -1;
        }
        var length = MathF.Sqrt(vector.Sum(x => x * x));
        if (length > 0)
        {
            for (var i = 0; i < vector.Length; i++)
            {
                vector[i] /= length;
            }
        }
        return vector;
    }

    private async Task<IResult> UploadAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType)
        {
            return Error(400, "The request must be multipart/form-data with 'file' and 'purpose'.");
        }
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var purpose = form["purpose"].ToString();
        if (purpose is not ("fine-tune" or "assistants" or "batch" or "vision" or "user_data" or "evals"))
        {
            return Error(400, $"'{purpose}' is not one of ['fine-tune', 'assistants', 'batch', 'vision', 'user_data', 'evals'] - 'purpose'", param: "purpose");
        }
        if (form.Files["file"] is not { } upload)
        {
            return Error(400, "'file' is a required property", param: "file");
        }
        using var buffer = new MemoryStream();
        await upload.CopyToAsync(buffer, context.RequestAborted);
        var file = new StoredFile(NewId("file-"), upload.FileName, purpose, buffer.ToArray(), Clock.Now);
        _files[file.Id] = file;
        return Json(RenderFile(file));
    }

    /// <summary>A JSON object body with a non-empty <c>model</c>, or the error OpenAI answers for either missing.</summary>
    private static async Task<(JsonObject Body, string Model, IResult? Refusal)> ReadWithModelAsync(HttpContext context)
    {
        JsonObject body;
        try
        {
            body = JsonNode.Parse(await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted)) as JsonObject
                ?? throw new JsonException("not an object");
        }
        catch (JsonException)
        {
            return ([], "", Error(400, "We could not parse the JSON body of your request."));
        }
        var model = (string?)body["model"];
        return string.IsNullOrEmpty(model)
            ? (body, "", Error(400, "Missing required parameter: 'model'.", param: "model", code: "missing_required_parameter"))
            : (body, model, null);
    }

    private IResult ListFiles(string? purpose, int? limit, string? after, string? order)
    {
        var files = _files.Values.Where(f => purpose is null || f.Purpose == purpose);
        var ordered = (order == "asc" ? files.OrderBy(f => f.CreatedAt) : files.OrderByDescending(f => f.CreatedAt)).ThenBy(f => f.Id, StringComparer.Ordinal);
        return Page([.. ordered.Select(RenderFile)], after, limit ?? 10000, withEnds: true);
    }

    private async Task<IResult> CreateAsync(HttpContext context)
    {
        var (body, model, refusal) = await ReadWithModelAsync(context);
        if (refusal is not null)
        {
            return refusal;
        }
        var trainingId = (string?)body["training_file"];
        if (trainingId is null || !_files.TryGetValue(trainingId, out var training))
        {
            return Error(400, $"invalid training_file: {trainingId}", param: "training_file", code: "invalid_training_file");
        }
        var validationId = (string?)body["validation_file"];
        if (validationId is not null && !_files.ContainsKey(validationId))
        {
            return Error(400, $"invalid validation_file: {validationId}", param: "validation_file", code: "invalid_validation_file");
        }
        var suffix = (string?)body["suffix"];
        if (suffix is { Length: > 64 })
        {
            return Error(400, "suffix must be at most 64 characters.", param: "suffix");
        }
        var hyper = body["method"]?["supervised"]?["hyperparameters"] as JsonObject ?? body["hyperparameters"] as JsonObject ?? [];
        if (!TryValue(hyper, "n_epochs", 1, 50, out var epochs) || !TryValue(hyper, "batch_size", 1, 256, out var batch))
        {
            return Error(400, "n_epochs must be 'auto' or 1..50 and batch_size 'auto' or 1..256.", param: "hyperparameters");
        }
        var multiplier = hyper["learning_rate_multiplier"] is JsonValue lr && lr.TryGetValue<double>(out var m) ? m : (double?)null;
        if (multiplier is <= 0)
        {
            return Error(400, "learning_rate_multiplier must be 'auto' or greater than 0.", param: "hyperparameters");
        }
        var failure = TakeJobFailure(context.Request.Path);
        var job = new OpenAiJob
        {
            Id = NewId("ftjob-"),
            Sequence = Interlocked.Increment(ref _sequence),
            Model = model,
            TrainingFile = training,
            ValidationFile = validationId,
            Suffix = suffix,
            Seed = body["seed"] is JsonValue s && s.TryGetValue<int>(out var seed) ? seed : Random.Shared.Next(),
            Metadata = body["metadata"] as JsonObject is { } md ? md.ToDictionary(p => p.Key, p => (string?)p.Value ?? "", StringComparer.Ordinal) : null,
            Epochs = epochs ?? 3,
            BatchSize = batch ?? 1,
            LearningRateMultiplier = multiplier ?? 1.8,
            CreatedAt = Clock.Now,
            FailAtStep = failure is null ? null : Math.Max(1, Options.TotalSteps / 2),
            FailMessage = failure?.Message ?? "The job failed due to an invalid training file.",
            FailCode = failure?.Code ?? "invalid_training_file",
        };
        AddEvent(job, job.CreatedAt, "info", "message", $"Created fine-tuning job: {job.Id}", null);
        AddEvent(job, job.CreatedAt, "info", "message", $"Validating training file: {training.Id}", null);
        _jobs[job.Id] = job;
        return Json(Render(job));
    }

    private static bool TryValue(JsonObject hyper, string name, int min, int max, out int? value)
    {
        value = null;
        switch (hyper[name])
        {
            case null:
                return true;
            case JsonValue v when v.TryGetValue<string>(out var text):
                return text == "auto";
            case JsonValue v when v.TryGetValue<int>(out var n) && n >= min && n <= max:
                value = n;
                return true;
            default:
                return false;
        }
    }

    private IResult ListJobs(HttpContext context, string? after, int? limit)
    {
        var filters = context.Request.Query
            .Where(q => q.Key.StartsWith("metadata[", StringComparison.Ordinal) && q.Key.EndsWith(']'))
            .Select(q => (Key: q.Key["metadata[".Length..^1], Value: q.Value.ToString()))
            .ToList();
        var jobs = _jobs.Values
            .Where(j => filters.All(f => j.Metadata is not null && j.Metadata.TryGetValue(f.Key, out var v) && v == f.Value))
            .OrderByDescending(j => j.Sequence)
            .Select(j =>
            {
                lock (j)
                {
                    Materialize(j);
                    return Render(j);
                }
            })
            .ToList();
        return Page(jobs, after, limit ?? 20, withEnds: false);
    }

    private IResult WithJob(string id, Func<OpenAiJob, JsonNode> render) => WithJob(id, j => Json(render(j)));

    private IResult WithJob(string id, Func<OpenAiJob, IResult> answer)
    {
        if (!_jobs.TryGetValue(id, out var job))
        {
            return Error(404, $"No fine-tuning job found with id '{id}'.", param: "fine_tuning_job_id", code: "fine_tuning_job_not_found");
        }
        lock (job)
        {
            Materialize(job);
            return answer(job);
        }
    }

    private IResult Change(string id, Func<OpenAiJob, IResult?> change) => WithJob(id, j => change(j) ?? Json(Render(j)));

    private IResult? Cancel(OpenAiJob job)
    {
        if (job.Status is "succeeded" or "failed" or "cancelled")
        {
            return Error(400, $"Job {job.Id} has already {job.Status} and cannot be cancelled.", code: "invalid_state");
        }
        job.Status = "cancelled";
        job.FinishedAt = Clock.Now;
        AddEvent(job, Clock.Now, "info", "message", "Fine-tuning job cancelled", null);
        return null;
    }

    private IResult? Pause(OpenAiJob job)
    {
        if (job.Status != "running")
        {
            return Error(400, $"Only a running job can be paused; job {job.Id} is {job.Status}.", code: "invalid_state");
        }
        job.PausedAt = Clock.Now;
        job.Status = "paused";
        AddEvent(job, Clock.Now, "info", "message", "Fine-tuning job paused", null);
        return null;
    }

    private IResult? Resume(OpenAiJob job)
    {
        if (job.PausedAt is not { } paused)
        {
            return Error(400, $"Only a paused job can be resumed; job {job.Id} is {job.Status}.", code: "invalid_state");
        }
        job.PausedFor += Clock.Now - paused;
        job.PausedAt = null;
        job.Status = "queued";
        AddEvent(job, Clock.Now, "info", "message", "Fine-tuning job resumed", null);
        return null;
    }

    /// <summary>Brings a job's status, events and checkpoints up to the emulator's clock.</summary>
    private void Materialize(OpenAiJob job)
    {
        if (job.Status is "succeeded" or "failed" or "cancelled" || job.PausedAt is not null)
        {
            return;
        }
        var now = Clock.Now;
        var ticks = (long)Math.Floor((now - job.CreatedAt - job.PausedFor) / Options.Tick);
        var total = Options.TotalSteps;
        var checkpoints = CheckpointSteps(total, job.Epochs);
        for (var t = job.MaterializedTicks + 1; t <= ticks; t++)
        {
            var at = job.CreatedAt + job.PausedFor + Options.Tick * t;
            var (phase, step) = At(t, total, job.FailAtStep, finalizingTicks: 0);
            switch (phase)
            {
                case TrainingPhase.Queued:
                    job.Status = "queued";
                    AddEvent(job, at, "info", "message", "Files validated, moving job to queued state", null);
                    break;
                case TrainingPhase.Running:
                    if (step == 1)
                    {
                        job.Status = "running";
                        AddEvent(job, at, "info", "message", "Fine-tuning job started", null);
                    }
                    var train = TrainLoss(job.Id, step, total);
                    var valid = ValidationLoss(job.Id, step, total);
                    var data = new JsonObject
                    {
                        ["step"] = step,
                        ["train_loss"] = train,
                        ["valid_loss"] = valid,
                        ["total_steps"] = total,
                        ["train_mean_token_accuracy"] = Accuracy(train),
                        ["valid_mean_token_accuracy"] = Accuracy(valid),
                    };
                    AddEvent(job, at, "info", "metrics", string.Create(CultureInfo.InvariantCulture, $"Step {step}/{total}: training loss={train:0.00}, validation loss={valid:0.00}"), data);
                    job.Metrics.Add((step, train, valid));
                    if (checkpoints.Contains(step))
                    {
                        job.Checkpoints.Insert(0, Checkpoint(job, at, step, train, valid));
                        AddEvent(job, at, "info", "message", $"Checkpoint created at step {step}", null);
                    }
                    break;
                case TrainingPhase.Failed:
                    job.Status = "failed";
                    job.FinishedAt = at;
                    AddEvent(job, at, "error", "message", job.FailMessage, null);
                    job.MaterializedTicks = ticks;
                    return;
                case TrainingPhase.Succeeded:
                    job.Status = "succeeded";
                    job.FinishedAt = at;
                    job.FineTunedModel = $"ft:{job.Model}:org-emulator:{job.Suffix ?? ""}:{job.Id[^8..]}";
                    job.TrainedTokens = TrainedTokens(job.TrainingFile, job.Epochs);
                    job.ResultFile = ResultFile(job, at);
                    AddEvent(job, at, "info", "message", $"New fine-tuned model created: {job.FineTunedModel}", null);
                    AddEvent(job, at, "info", "message", "The job has successfully completed", null);
                    job.MaterializedTicks = ticks;
                    return;
            }
        }
        job.MaterializedTicks = Math.Max(job.MaterializedTicks, ticks);
    }

    private static JsonObject Checkpoint(OpenAiJob job, DateTimeOffset at, int step, double train, double valid) => new()
    {
        ["object"] = "fine_tuning.job.checkpoint",
        ["id"] = $"ftckpt_{job.Id[^8..]}{step}",
        ["created_at"] = Unix(at),
        ["fine_tuned_model_checkpoint"] = $"ft:{job.Model}:org-emulator:{job.Suffix ?? ""}:{job.Id[^8..]}:ckpt-step-{step}",
        ["fine_tuning_job_id"] = job.Id,
        ["step_number"] = step,
        ["metrics"] = new JsonObject
        {
            ["step"] = step,
            ["train_loss"] = train,
            ["train_mean_token_accuracy"] = Accuracy(train),
            ["valid_loss"] = valid,
            ["valid_mean_token_accuracy"] = Accuracy(valid),
            ["full_valid_loss"] = valid,
            ["full_valid_mean_token_accuracy"] = Accuracy(valid),
        },
    };

    private string ResultFile(OpenAiJob job, DateTimeOffset at)
    {
        var csv = new System.Text.StringBuilder("step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n");
        foreach (var (step, train, valid) in job.Metrics)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{step},{train},{Accuracy(train)},{valid},{Accuracy(valid)}\n");
        }
        var file = new StoredFile(NewId("file-"), "step_metrics.csv", "fine-tune-results", System.Text.Encoding.UTF8.GetBytes(csv.ToString()), at);
        _files[file.Id] = file;
        return file.Id;
    }

    private static void AddEvent(OpenAiJob job, DateTimeOffset at, string level, string type, string message, JsonObject? data)
    {
        job.Events.Insert(0, new JsonObject
        {
            ["object"] = "fine_tuning.job.event",
            ["id"] = $"ftevent-{job.Id[^8..]}-{job.Events.Count + 1}",
            ["created_at"] = Unix(at),
            ["level"] = level,
            ["message"] = message,
            ["data"] = data ?? [],
            ["type"] = type,
        });
    }

    /// <summary>A list page: items after the one with id <paramref name="after"/>, at most <paramref name="limit"/>.</summary>
    private static IResult Page(IReadOnlyList<JsonObject> items, string? after, int limit, bool withEnds)
    {
        limit = Math.Clamp(limit, 1, 10000);
        var start = 0;
        if (after is not null)
        {
            var index = items.ToList().FindIndex(i => (string?)i["id"] == after);
            start = index < 0 ? items.Count : index + 1;
        }
        var page = items.Skip(start).Take(limit).Select(i => (JsonNode)i.DeepClone()).ToList();
        var list = new JsonObject { ["object"] = "list", ["data"] = new JsonArray([.. page]), ["has_more"] = start + page.Count < items.Count };
        if (withEnds)
        {
            list["first_id"] = page.Count > 0 ? (string?)page[0]!["id"] : null;
            list["last_id"] = page.Count > 0 ? (string?)page[^1]!["id"] : null;
        }
        return Json(list);
    }

    private static JsonObject RenderFile(StoredFile f) => new()
    {
        ["id"] = f.Id,
        ["object"] = "file",
        ["bytes"] = f.Content.Length,
        ["created_at"] = Unix(f.CreatedAt),
        ["filename"] = f.FileName,
        ["purpose"] = f.Purpose,
        ["status"] = "processed",
        ["expires_at"] = null,
        ["status_details"] = null,
    };

    private static IResult NoSuchFile(string id) => Error(404, $"No such File object: {id}", param: "id");

    private JsonObject Render(OpenAiJob job)
    {
        lock (job)
        {
            var hyper = new JsonObject { ["n_epochs"] = job.Epochs, ["batch_size"] = job.BatchSize, ["learning_rate_multiplier"] = job.LearningRateMultiplier };
            return new JsonObject
            {
                ["object"] = "fine_tuning.job",
                ["id"] = job.Id,
                ["model"] = job.Model,
                ["created_at"] = Unix(job.CreatedAt),
                ["finished_at"] = job.FinishedAt is { } f ? Unix(f) : null,
                ["estimated_finish"] = job.Status is "queued" or "running"
                    ? Unix(job.CreatedAt + job.PausedFor + Options.Tick * (TicksBeforeTraining + Options.TotalSteps) + TimeSpan.FromMinutes(1))
                    : null,
                ["fine_tuned_model"] = job.FineTunedModel,
                ["organization_id"] = "org-emulator",
                ["result_files"] = job.ResultFile is null ? new JsonArray() : new JsonArray(job.ResultFile),
                ["status"] = job.Status,
                ["validation_file"] = job.ValidationFile,
                ["training_file"] = job.TrainingFile.Id,
                ["hyperparameters"] = hyper.DeepClone(),
                ["method"] = new JsonObject { ["type"] = "supervised", ["supervised"] = new JsonObject { ["hyperparameters"] = hyper } },
                ["trained_tokens"] = job.TrainedTokens,
                ["error"] = job.Status == "failed"
                    ? new JsonObject { ["code"] = job.FailCode, ["message"] = job.FailMessage, ["param"] = "training_file" }
                    : null,
                ["integrations"] = new JsonArray(),
                ["seed"] = job.Seed,
                ["metadata"] = job.Metadata is null ? null : new JsonObject(job.Metadata.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
                ["user_provided_suffix"] = job.Suffix,
                ["usage_metrics"] = null,
                ["shared_with_openai"] = false,
            };
        }
    }
}

/// <summary>One simulated OpenAI job (guarded by locking the instance).</summary>
public sealed class OpenAiJob
{
    public required string Id { get; init; }
    public required long Sequence { get; init; }
    public required string Model { get; init; }
    public required StoredFile TrainingFile { get; init; }
    public string? ValidationFile { get; init; }
    public string? Suffix { get; init; }
    public int Seed { get; init; }
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
    public int Epochs { get; init; }
    public int BatchSize { get; init; }
    public double LearningRateMultiplier { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public int? FailAtStep { get; init; }
    public string FailMessage { get; init; } = "";
    public string FailCode { get; init; } = "";
    public string Status { get; set; } = "validating_files";
    public DateTimeOffset? FinishedAt { get; set; }
    public DateTimeOffset? PausedAt { get; set; }
    public TimeSpan PausedFor { get; set; }
    public string? FineTunedModel { get; set; }
    public long? TrainedTokens { get; set; }
    public string? ResultFile { get; set; }
    public long MaterializedTicks { get; set; }
    public List<JsonObject> Events { get; } = [];
    public List<JsonObject> Checkpoints { get; } = [];
    public List<(int Step, double Train, double Valid)> Metrics { get; } = [];
}
