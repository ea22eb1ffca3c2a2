using System.Text.Json;

namespace ObjectaLabs.Orleans.Providers.OpenAi;

/// <summary>
/// Reads OpenAI's answers from the raw JSON: the SDK hides <c>error</c>, <c>created_at</c>,
/// <c>finished_at</c> and <c>fine_tuned_model</c>, and loses <c>trained_tokens</c>
/// (<c>BillableTrainedTokenCount</c> is always 0 in 2.15.0). Tolerant: a field of an unexpected type is
/// read as absent, an empty error object as no error, an unknown status as <see cref="ProviderJobStatus.Unknown"/>.
/// </summary>
public static class OpenAiJson
{
    /// <summary>The metadata key that carries our job id on every job we create.</summary>
    public const string ReferenceKey = "objectalabs_job";

    public static ProviderJobStatus MapStatus(string? status) => status switch
    {
        "validating_files" => ProviderJobStatus.Validating,
        "queued" => ProviderJobStatus.Queued,
        "running" => ProviderJobStatus.Running,
        "succeeded" => ProviderJobStatus.Succeeded,
        "failed" => ProviderJobStatus.Failed,
        "cancelled" => ProviderJobStatus.Cancelled,
        // "paused" (after POST /pause) is not in the spec's enum; it and anything new are kept raw.
        _ => ProviderJobStatus.Unknown,
    };

    public static ProviderJob Job(JsonElement job)
    {
        var raw = String(job, "status") ?? "";
        string? code = null, message = null;
        if (job.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
        {
            code = String(error, "code");
            message = String(error, "message");
            if (string.IsNullOrWhiteSpace(message))
            {
                (code, message) = (null, null);
            }
        }
        string? reference = null;
        if (job.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object)
        {
            reference = String(metadata, ReferenceKey);
        }
        return new ProviderJob(
            String(job, "id") ?? throw new JsonException("A fine-tuning job without an id."),
            raw,
            MapStatus(raw),
            String(job, "fine_tuned_model"),
            Long(job, "trained_tokens"),
            code,
            message,
            Unix(job, "created_at"),
            StartedAt: null,
            Unix(job, "finished_at"),
            Unix(job, "estimated_finish"),
            Step: null,
            TotalSteps: null,
            ProviderCostUsd: null,
            reference);
    }

    public static ProviderEvent Event(JsonElement e)
    {
        var data = e.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.Object ? d : default;
        var hasData = data.ValueKind == JsonValueKind.Object;
        return new ProviderEvent(
            String(e, "id") ?? "",
            Unix(e, "created_at") ?? DateTimeOffset.UnixEpoch,
            String(e, "level") ?? "info",
            String(e, "type") ?? "message",
            String(e, "message") ?? "",
            hasData ? (int?)Long(data, "step") : null,
            hasData ? (int?)Long(data, "total_steps") : null,
            hasData ? Double(data, "train_loss") : null,
            hasData ? Double(data, "valid_loss") ?? Double(data, "full_valid_loss") : null);
    }

    public static ProviderCheckpoint Checkpoint(JsonElement c)
    {
        var metrics = c.TryGetProperty("metrics", out var m) && m.ValueKind == JsonValueKind.Object ? m : default;
        var hasMetrics = metrics.ValueKind == JsonValueKind.Object;
        return new ProviderCheckpoint(
            String(c, "id") ?? "",
            Unix(c, "created_at") ?? DateTimeOffset.UnixEpoch,
            (int)(Long(c, "step_number") ?? 0),
            String(c, "fine_tuned_model_checkpoint"),
            hasMetrics ? Double(metrics, "train_loss") : null,
            hasMetrics ? Double(metrics, "valid_loss") ?? Double(metrics, "full_valid_loss") : null);
    }

    public static ProviderFile File(JsonElement f) => new(
        String(f, "id") ?? throw new JsonException("A file without an id."),
        String(f, "filename") ?? "",
        Long(f, "bytes") ?? 0,
        Unix(f, "created_at"));

    /// <summary>The list's items (an absent <c>data</c> is an empty page) and whether more follow.</summary>
    public static (List<JsonElement> Items, bool HasMore) List(JsonElement list)
    {
        if (list.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("A list answer that is not an object.");
        }
        var items = list.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array ? data.EnumerateArray().ToList() : [];
        var hasMore = list.TryGetProperty("has_more", out var more) && more.ValueKind == JsonValueKind.True;
        return (items, hasMore);
    }

    internal static string? String(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    internal static long? Long(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : null;

    internal static double? Double(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    internal static DateTimeOffset? Unix(JsonElement e, string name) =>
        Long(e, name) is { } seconds and > 0 ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;
}
