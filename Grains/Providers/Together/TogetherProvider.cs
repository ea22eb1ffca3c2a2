using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ObjectaLabs.Orleans.Providers.Accounts;

namespace ObjectaLabs.Orleans.Providers.Together;

/// <summary>
/// Together fine-tuning over REST. Together keeps no metadata on a job, so our reference rides in the
/// suffix (<see cref="TogetherJson.SuffixFor"/>) and <see cref="FindJobByReferenceAsync"/> lists the jobs
/// (Together's list has no paging or filter) and matches the suffix. Events are not paged either: each
/// poll reads them all and answers those after the cursor.
/// </summary>
public sealed class TogetherProvider(TogetherClient client, TimeProvider time, ILogger<TogetherProvider> logger) : IFineTuningProvider
{
    public string Name => ProviderNames.Together;

    public bool QuotesPrices => true;

    public async Task<ProviderFile> UploadFileAsync(ProviderAccount account, string fileName, Func<Stream, CancellationToken, Task> writeContent, string sha256, CancellationToken cancellationToken)
    {
        var name = ProviderFileNames.WithHash(fileName, sha256);
        using var json = await client.UploadAsync(account, name, writeContent, cancellationToken);
        var file = Read(() => TogetherJson.File(json.RootElement));
        logger.LogInformation("Uploaded {FileName} to Together as {FileId}", name, file.Id);
        return file;
    }

    public async Task<ProviderFile?> FindFileAsync(ProviderAccount account, string fileName, string sha256, CancellationToken cancellationToken)
    {
        var name = ProviderFileNames.WithHash(fileName, sha256);
        using var json = await client.GetAsync(account, "/files", cancellationToken);
        return Read(() => TogetherJson.Data(json.RootElement)
            .Where(f => TogetherJson.String(f, "filename") == name)
            .Select(TogetherJson.File)
            .OrderByDescending(f => f.CreatedAt)
            .FirstOrDefault());
    }

    public async Task<ProviderJob> CreateJobAsync(ProviderAccount account, ProviderJobRequest request, CancellationToken cancellationToken)
    {
        using var json = await client.PostJsonAsync(account, "/fine-tunes", Body(request), cancellationToken);
        var job = Read(() => TogetherJson.Job(json.RootElement, time.GetUtcNow(), request.Reference));
        logger.LogInformation("Created Together job {ProviderJobId} for {Reference}", job.Id, request.Reference);
        return job;
    }

    public async Task<ProviderJob?> FindJobByReferenceAsync(ProviderAccount account, string reference, string? suffix, CancellationToken cancellationToken)
    {
        var token = TogetherJson.ReferenceToken(reference);
        using var json = await client.GetAsync(account, "/fine-tunes", cancellationToken);
        return Read(() => TogetherJson.Data(json.RootElement)
            .Where(j => TogetherJson.String(j, "suffix") is { } s && (s == token || s.EndsWith("-" + token, StringComparison.Ordinal)))
            .Select(j => TogetherJson.Job(j, time.GetUtcNow(), reference))
            .OrderByDescending(j => j.CreatedAt)
            .FirstOrDefault());
    }

    public async Task<ProviderJob> GetJobAsync(ProviderAccount account, string providerJobId, CancellationToken cancellationToken)
    {
        using var json = await client.GetAsync(account, $"/fine-tunes/{Uri.EscapeDataString(providerJobId)}", cancellationToken);
        var job = Read(() => TogetherJson.Job(json.RootElement, time.GetUtcNow()));
        if (job.Status != ProviderJobStatus.Failed)
        {
            return job;
        }
        // The job object carries no error text; the job_error event does.
        var events = await ReadEventsAsync(account, providerJobId, cancellationToken);
        var failure = events.LastOrDefault(e => e.Type == "job_error" || e.Level == "error");
        return failure is null ? job : job with { ErrorMessage = failure.Message };
    }

    public async Task<ProviderEventPage> ListEventsAsync(ProviderAccount account, string providerJobId, string? afterCursor, CancellationToken cancellationToken) =>
        TogetherJson.After(await ReadEventsAsync(account, providerJobId, cancellationToken), afterCursor);

    public async Task<IReadOnlyList<ProviderCheckpoint>> ListCheckpointsAsync(ProviderAccount account, string providerJobId, CancellationToken cancellationToken)
    {
        using var json = await client.GetAsync(account, $"/fine-tunes/{Uri.EscapeDataString(providerJobId)}/checkpoints", cancellationToken);
        return Read(() => (IReadOnlyList<ProviderCheckpoint>)[.. TogetherJson.Data(json.RootElement).Select(c => TogetherJson.Checkpoint(c, providerJobId)).OrderBy(c => c.Step)]);
    }

    public async Task<ProviderJob> CancelJobAsync(ProviderAccount account, string providerJobId, CancellationToken cancellationToken)
    {
        using var json = await client.PostJsonAsync(account, $"/fine-tunes/{Uri.EscapeDataString(providerJobId)}/cancel", null, cancellationToken);
        logger.LogInformation("Asked Together to cancel {ProviderJobId}", providerJobId);
        return Read(() => TogetherJson.Job(json.RootElement, time.GetUtcNow()));
    }

    /// <summary>Together's own estimate; null when it has none or cannot be reached (the catalog's figure then stands).</summary>
    public async Task<ProviderPriceEstimate?> EstimatePriceAsync(ProviderAccount account, ProviderJobRequest request, CancellationToken cancellationToken)
    {
        try
        {
            using var json = await client.PostJsonAsync(account, "/fine-tunes/estimate-price", Body(request), cancellationToken);
            var e = json.RootElement;
            var available = !e.TryGetProperty("estimation_available", out var flag) || flag.ValueKind != JsonValueKind.False;
            var price = available && e.TryGetProperty("estimated_total_price", out var p) && p.ValueKind == JsonValueKind.Number ? p.GetDecimal() : (decimal?)null;
            return new ProviderPriceEstimate(price, TogetherJson.Long(e, "estimated_train_token_count"), TogetherJson.Long(e, "estimated_eval_token_count"),
                !e.TryGetProperty("allowed_to_proceed", out var allowed) || allowed.ValueKind != JsonValueKind.False);
        }
        catch (ProviderException e) when (e.IsTransient)
        {
            logger.LogWarning("Together's price estimate is unavailable: {Reason}", e.Message);
            return null;
        }
    }

    /// <summary>The create (and estimate) body: Together's parameter names, defaults left to Together.</summary>
    public static JsonObject Body(ProviderJobRequest request)
    {
        var h = request.Hyperparameters;
        var body = new JsonObject
        {
            ["training_file"] = request.TrainingFileId,
            ["model"] = request.ProviderModel,
            ["suffix"] = TogetherJson.SuffixFor(request.Suffix, request.Reference),
            ["batch_size"] = h.BatchSize is { } batch ? batch : "max",
            ["training_type"] = h.Lora == false
                ? new JsonObject { ["type"] = "Full" }
                : new JsonObject
                {
                    ["type"] = "Lora",
                    ["lora_r"] = h.LoraRank ?? 8,
                    ["lora_alpha"] = h.LoraAlpha ?? 2 * (h.LoraRank ?? 8),
                    ["lora_dropout"] = h.LoraDropout ?? 0.0,
                    ["lora_trainable_modules"] = "all-linear",
                },
        };
        if (request.ValidationFileId is { } validation)
        {
            body["validation_file"] = validation;
            body["n_evals"] = h.Evaluations ?? 1;
        }
        else if (h.Evaluations is { } evals)
        {
            body["n_evals"] = evals;
        }
        if (h.Epochs is { } epochs)
        {
            body["n_epochs"] = epochs;
        }
        if (h.LearningRate is { } rate)
        {
            body["learning_rate"] = rate;
        }
        if (request.Seed is { } seed)
        {
            body["random_seed"] = seed;
        }
        return body;
    }

    private async Task<List<ProviderEvent>> ReadEventsAsync(ProviderAccount account, string providerJobId, CancellationToken cancellationToken)
    {
        using var json = await client.GetAsync(account, $"/fine-tunes/{Uri.EscapeDataString(providerJobId)}/events", cancellationToken);
        return Read(() => TogetherJson.Events(json.RootElement));
    }

    /// <summary>A well-formed JSON answer of the wrong shape is as malformed as broken JSON: transient.</summary>
    private static T Read<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new ProviderException(ProviderFaultKind.Transient, TogetherClient.Provider,
                string.Create(CultureInfo.InvariantCulture, $"Together sent an answer of an unexpected shape: {e.Message}"), inner: e);
        }
    }
}
