using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ObjectaLabs.Orleans.Providers.Together;

/// <summary>
/// Reads Together's answers: statuses mapped to ours (the raw word kept), ISO-8601 timestamps (or Unix
/// seconds, tolerated), events without ids given a stable one from (created_at, type, step).
/// </summary>
public static partial class TogetherJson
{
    public const int MaxSuffixLength = 40;

    public static ProviderJobStatus MapStatus(string? status) => status switch
    {
        "pending" or "queued" => ProviderJobStatus.Queued,
        "running" or "compressing" or "uploading" => ProviderJobStatus.Running,
        // Cancel was asked for and the job is still winding down: followed until "cancelled".
        "cancel_requested" => ProviderJobStatus.Running,
        "completed" => ProviderJobStatus.Succeeded,
        "error" => ProviderJobStatus.Failed,
        "cancelled" => ProviderJobStatus.Cancelled,
        _ => ProviderJobStatus.Unknown,
    };

    public static ProviderJob Job(JsonElement job, DateTimeOffset now, string? reference = null, string? errorMessage = null)
    {
        var raw = String(job, "status") ?? "";
        var status = MapStatus(raw);
        var terminal = status is ProviderJobStatus.Succeeded or ProviderJobStatus.Failed or ProviderJobStatus.Cancelled;
        DateTimeOffset? estimatedFinish = null;
        if (!terminal && job.TryGetProperty("progress", out var progress) && progress.ValueKind == JsonValueKind.Object
            && progress.TryGetProperty("estimate_available", out var available) && available.ValueKind == JsonValueKind.True
            && Double(progress, "seconds_remaining") is { } remaining)
        {
            estimatedFinish = now + TimeSpan.FromSeconds(remaining);
        }
        return new ProviderJob(
            String(job, "id") ?? throw new JsonException("A fine-tune job without an id."),
            raw,
            status,
            // The output name exists from creation; it names a model only once the job completed.
            status == ProviderJobStatus.Succeeded ? String(job, "model_output_name") : null,
            Long(job, "token_count"),
            status == ProviderJobStatus.Failed ? "job_error" : null,
            status == ProviderJobStatus.Failed ? errorMessage ?? String(job, "message") ?? "Together reported the job as failed (status 'error') without a message." : null,
            Time(job, "created_at"),
            Time(job, "started_at"),
            terminal ? Time(job, "updated_at") : null,
            estimatedFinish,
            Step: null,
            TotalSteps: null,
            // total_price is an integer whose unit the spec does not publish: never guessed into dollars.
            ProviderCostUsd: null,
            reference);
    }

    /// <summary>Events in the order Together lists them (oldest first), each with a stable id.</summary>
    public static List<ProviderEvent> Events(JsonElement list)
    {
        var events = new List<ProviderEvent>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var e in Data(list))
        {
            var created = Time(e, "created_at") ?? DateTimeOffset.UnixEpoch;
            var type = String(e, "type") ?? "message";
            var step = (int?)Long(e, "step");
            var key = $"{created.UtcTicks}|{type}|{step}";
            var occurrence = seen[key] = seen.GetValueOrDefault(key) + 1;
            var message = String(e, "message") ?? "";
            var total = (int?)Long(e, "total_steps");
            events.Add(new ProviderEvent(
                occurrence == 1 ? key : $"{key}|{occurrence}",
                created,
                String(e, "level") ?? "info",
                type,
                message,
                step,
                total is > 0 ? total : null,
                Loss(TrainLoss(), message),
                Loss(ValidationLoss(), message)));
        }
        return [.. events.Select((e, i) => (e, i)).OrderBy(x => x.e.CreatedAt).ThenBy(x => x.i).Select(x => x.e)];
    }

    /// <summary>Events after the cursor (the id of the last one seen); an unknown cursor falls back to its timestamp.</summary>
    public static ProviderEventPage After(List<ProviderEvent> events, string? cursor)
    {
        if (cursor is null)
        {
            return new ProviderEventPage(events, events.Count > 0 ? events[^1].Id : null);
        }
        var index = events.FindLastIndex(e => e.Id == cursor);
        List<ProviderEvent> fresh;
        if (index >= 0)
        {
            fresh = events[(index + 1)..];
        }
        else
        {
            var ticks = long.TryParse(cursor.Split('|')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var t) ? t : long.MinValue;
            fresh = [.. events.Where(e => e.CreatedAt.UtcTicks > ticks)];
        }
        return new ProviderEventPage(fresh, fresh.Count > 0 ? fresh[^1].Id : cursor);
    }

    public static ProviderCheckpoint Checkpoint(JsonElement c, string jobId)
    {
        var step = (int)(Long(c, "step") ?? 0);
        var path = String(c, "path");
        return new ProviderCheckpoint(path is { Length: > 0 } ? path : $"{jobId}:{step}", Time(c, "created_at") ?? DateTimeOffset.UnixEpoch, step,
            $"{jobId}:{step}", null, null);
    }

    public static ProviderFile File(JsonElement f) => new(
        String(f, "id") ?? throw new JsonException("A file without an id."),
        String(f, "filename") ?? "",
        Long(f, "bytes") ?? 0,
        Time(f, "created_at"));

    public static IEnumerable<JsonElement> Data(JsonElement list) =>
        list.ValueKind == JsonValueKind.Array ? list.EnumerateArray()
        : list.ValueKind == JsonValueKind.Object && list.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array ? data.EnumerateArray()
        : list.ValueKind == JsonValueKind.Object ? []
        : throw new JsonException("A list answer that is neither an object nor an array.");

    /// <summary>
    /// Together keeps no metadata on a job, so the suffix carries our reference: a short hash of it
    /// (<c>ol</c> + 10 hex), after the caller's own suffix, within Together's suffix length.
    /// </summary>
    public static string ReferenceToken(string reference) =>
        "ol" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(reference)))[..10].ToLowerInvariant();

    public static string SuffixFor(string? suffix, string reference)
    {
        var token = ReferenceToken(reference);
        var clean = new string((suffix ?? "").ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray()).Trim('-');
        var room = MaxSuffixLength - token.Length - 1;
        clean = clean.Length > room ? clean[..room].TrimEnd('-') : clean;
        return clean.Length == 0 ? token : $"{clean}-{token}";
    }

    internal static string? String(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    internal static long? Long(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : null;

    internal static double? Double(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    internal static DateTimeOffset? Time(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v))
        {
            return null;
        }
        if (v.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(v.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            return at;
        }
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var seconds) && seconds > 0 ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;
    }

    private static double? Loss(Regex pattern, string message) =>
        pattern.Match(message) is { Success: true } m && double.TryParse(m.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var loss) ? loss : null;

    [GeneratedRegex(@"train(?:ing)?[ _]loss\s*[=:]\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)", RegexOptions.IgnoreCase)]
    private static partial Regex TrainLoss();

    [GeneratedRegex(@"(?:validation|eval|valid)[ _]loss\s*[=:]\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)", RegexOptions.IgnoreCase)]
    private static partial Regex ValidationLoss();
}
