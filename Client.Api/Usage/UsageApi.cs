using ObjectaLabs.Orleans.Api.Security;
using ObjectaLabs.Orleans.Deployment;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Usage;

namespace ObjectaLabs.Orleans.Api.Usage;

/// <summary>Usage the agent runtime reports (runtime key), and the metrics read from it (admin key).</summary>
public static class UsageApi
{
    public const long MaxTokensPerEvent = 100_000_000;
    public const double MaxLatencyMs = 3_600_000;
    public const int MaxBaseModelLength = 200;
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan MaxRange = TimeSpan.FromDays(400);

    /// <summary>The earliest time a metrics range may name (no usage is older).</summary>
    public static readonly DateTimeOffset Earliest = new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static IEndpointRouteBuilder MapUsageApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/organizations/{orgId:guid}/usage").WithTags("Usage")
            .RequireOrganizationScope(ApiKeyScope.Runtime)
            .MapPost("/", Report)
            .WithMetadata(UsageEndpointMetadata.Instance)
            .WithSummary($"The runtime reports a batch of up to {UsageBatch.MaxEvents} requests it made (runtime or admin key): per request the model that served it (modelId or baseModel, as resolve answered), the experiment and arm it was assigned, whether the fallback served it, tokens, latency, success and an optional 1-5 satisfaction rating. 202 when counted; 200 when the batchId was counted before (a retry is counted once).");
        app.MapGroup("/v1/organizations/{orgId:guid}/usage").WithTags("Usage")
            .RequireOrganizationScope(ApiKeyScope.Admin)
            .MapGet("/metrics", Metrics)
            .WithSummary("One model's usage (modelId or baseModel) over [from, to) in whole UTC hours (default: the last 24 hours), all of it and per experiment arm: requests, tokens, cost, latency mean/p50/p95/p99 from one merged histogram, success rate, satisfaction. Figures trail the reports by at most a few seconds (Usage:ForwardInterval + Usage:FlushInterval).");
        return app;
    }

    /// <summary>One request the runtime made. <c>arm</c> (control or candidate) goes with <c>experimentId</c>, as resolve answered them.</summary>
    public sealed record UsageEventRequest(
        Guid? ModelId,
        string? BaseModel,
        Guid? ExperimentId,
        UsageArm? Arm,
        bool? FellBack,
        long? InputTokens,
        long? OutputTokens,
        double? LatencyMs,
        bool? Success,
        int? Satisfaction,
        DateTimeOffset? Timestamp);

    public sealed record UsageBatchRequest(Guid? BatchId, IReadOnlyList<UsageEventRequest?>? Events);

    public static async Task<Results<Accepted<UsageReceipt>, Ok<UsageReceipt>>> Report(Guid orgId, UsageBatchRequest request, UsageSender sender, TimeProvider clock)
    {
        var batch = ToBatch(request, clock.GetUtcNow());
        var outcome = await sender.SendAsync(orgId, batch);
        var receipt = outcome.Receipt ?? throw ProblemException.Invalid(outcome.RefusedField ?? "events", outcome.RefusedBecause ?? "The batch was refused.");
        return receipt.Duplicate ? TypedResults.Ok(receipt) : TypedResults.Accepted((string?)null, receipt);
    }

    public static async Task<Ok<ModelMetrics>> Metrics(Guid orgId, Guid? modelId, string? baseModel, DateTimeOffset? from, DateTimeOffset? to, Guid? experimentId,
        IGrainFactory grains, TimeProvider clock)
    {
        var model = Choice(modelId, baseModel) ?? throw ProblemException.Invalid("modelId", "Give 'modelId' (a fine-tuned model) or 'baseModel' (a catalog model).");
        var now = clock.GetUtcNow();
        if (from is { } f && (f < Earliest || f > now + MaxRange))
        {
            throw ProblemException.Invalid("from", $"'from' must be between {Earliest:yyyy-MM-dd} and {MaxRange.TotalDays:0} days from now.");
        }
        if (to is { } t && (t < Earliest || t > now + MaxRange))
        {
            throw ProblemException.Invalid("to", $"'to' must be between {Earliest:yyyy-MM-dd} and {MaxRange.TotalDays:0} days from now.");
        }
        var end = to ?? UsageKey.HourOf(now).AddHours(1);
        var start = from ?? end.AddHours(-24);
        if (start >= end)
        {
            throw ProblemException.Invalid("from", "'from' must be before 'to'.");
        }
        if (end - start > MaxRange)
        {
            throw ProblemException.Invalid("from", $"The range is at most {MaxRange.TotalDays:0} days.");
        }
        return TypedResults.Ok(await grains.GetGrain<IUsageMetricsGrain>(0).GetMetricsAsync(orgId, new UsageQuery(model, start, end, experimentId)));
    }

    /// <summary>Checks every event (refusals name its index and field) and adds the batch up by key.</summary>
    /// <remarks>
    /// The hot path of usage: an event's key is compared by its parts with the keys already seen in the batch (a batch
    /// has a handful), so no key, model or hash is made per event, and a base model's name is checked once per batch.
    /// </remarks>
    public static UsageBatch ToBatch(UsageBatchRequest request, DateTimeOffset now)
    {
        if (request.BatchId is not { } batchId || batchId == Guid.Empty)
        {
            throw ProblemException.Invalid("batchId", "'batchId' is required: a new UUID per batch, the same one when the batch is sent again.");
        }
        if (request.Events is not { Count: > 0 and <= UsageBatch.MaxEvents } events)
        {
            throw ProblemException.Invalid("events", $"'events' holds 1 to {UsageBatch.MaxEvents} requests.");
        }
        var entries = new BatchEntries();
        var baseModels = new CheckedNames();
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i] ?? throw ProblemException.Invalid($"events[{i}]", "An event must be an object.");
            var parts = PartsOf(e, i, now, baseModels);
            entries.For(parts, i).Add(e, i);
        }
        return new UsageBatch(batchId, events.Count, entries.Build());
    }

    /// <summary>An event's key as its checked parts (see <see cref="UsageKey"/>); the hour as UTC ticks.</summary>
    private readonly record struct KeyParts(Guid? ModelId, string? BaseModel, Guid? ExperimentId, UsageArm Arm, bool FellBack, long HourTicks)
    {
        public bool SameAs(in KeyParts other) =>
            HourTicks == other.HourTicks && Arm == other.Arm && FellBack == other.FellBack && ExperimentId == other.ExperimentId
            && ModelId == other.ModelId && string.Equals(BaseModel, other.BaseModel, StringComparison.Ordinal);

        public UsageKey ToKey() => new(ModelId is { } id ? ModelChoice.FineTuned(id) : ModelChoice.Base(BaseModel!), ExperimentId, Arm, FellBack,
            new DateTimeOffset(HourTicks, TimeSpan.Zero));
    }

    private static KeyParts PartsOf(UsageEventRequest e, int i, DateTimeOffset now, CheckedNames baseModels)
    {
        CheckModel(e.ModelId, e.BaseModel, i, baseModels);
        if (e.ModelId is null && e.BaseModel is null)
        {
            throw ProblemException.Invalid($"events[{i}].modelId", "Each event names the model that served it: 'modelId' or 'baseModel'.");
        }
        var arm = e.Arm ?? UsageArm.None;
        if (e.ExperimentId is { } experiment && (experiment == Guid.Empty || arm == UsageArm.None))
        {
            throw ProblemException.Invalid($"events[{i}].arm", "With 'experimentId', 'arm' is the arm resolve assigned: control or candidate.");
        }
        if (e.ExperimentId is null && arm != UsageArm.None)
        {
            throw ProblemException.Invalid($"events[{i}].experimentId", "'arm' goes with the 'experimentId' resolve answered.");
        }
        var at = e.Timestamp ?? throw ProblemException.Invalid($"events[{i}].timestamp", "'timestamp' (when the request ended) is required.");
        if (at > now + MaxClockSkew || at < now - UsageKey.MaxEventAge)
        {
            throw ProblemException.Invalid($"events[{i}].timestamp", $"'timestamp' must be within the last {UsageKey.MaxEventAge.TotalDays:0} days and not in the future.");
        }
        var ticks = at.UtcTicks;
        return new KeyParts(e.ModelId, e.BaseModel, e.ExperimentId, arm, e.FellBack ?? false, ticks - ticks % TimeSpan.TicksPerHour);
    }

    /// <summary>
    /// The model choice's rules, for the metrics query (<paramref name="eventIndex"/> −1) and for each event: not both,
    /// a real model id, a catalog-shaped base model name (checked once per name in <paramref name="checkedNames"/>). The
    /// field is named only when refused, so a valid event costs no string.
    /// </summary>
    private static void CheckModel(Guid? modelId, string? baseModel, int eventIndex, CheckedNames? checkedNames = null)
    {
        if (modelId is not null && baseModel is not null)
        {
            throw ProblemException.Invalid(Field(eventIndex, "modelId"), "Give 'modelId' or 'baseModel', not both.");
        }
        if (modelId == Guid.Empty)
        {
            throw ProblemException.Invalid(Field(eventIndex, "modelId"), "'modelId' is not a model id.");
        }
        if (baseModel is null || checkedNames?.Contains(baseModel) == true)
        {
            return;
        }
        if (baseModel.Length is 0 or > MaxBaseModelLength || baseModel.AsSpan().ContainsAnyInRange('\0', '\u001f') || baseModel.AsSpan().ContainsAnyInRange('\u007f', '\u009f'))
        {
            throw ProblemException.Invalid(Field(eventIndex, "baseModel"), $"'baseModel' is a catalog model id of 1 to {MaxBaseModelLength} characters.");
        }
        checkedNames?.Add(baseModel);
    }

    private static string Field(int eventIndex, string name) => eventIndex < 0 ? name : $"events[{eventIndex}].{name}";

    /// <summary>The base model names a batch checked: the first two compared in place (a batch names one or two), more in a set.</summary>
    private sealed class CheckedNames
    {
        private string? _first, _second;
        private HashSet<string>? _more;

        public bool Contains(string name) =>
            string.Equals(name, _first, StringComparison.Ordinal) || string.Equals(name, _second, StringComparison.Ordinal) || _more?.Contains(name) == true;

        public void Add(string name)
        {
            if (_first is null)
            {
                _first = name;
            }
            else if (_second is null)
            {
                _second = name;
            }
            else
            {
                (_more ??= new HashSet<string>(StringComparer.Ordinal)).Add(name);
            }
        }
    }

    /// <summary>A batch's entries in the order their keys first appear: found by comparing parts while there are few, by hash past <see cref="ScanLimit"/>.</summary>
    private sealed class BatchEntries
    {
        private const int ScanLimit = 8;
        private readonly List<EntryBuilder> _entries = new(ScanLimit);
        private Dictionary<KeyParts, EntryBuilder>? _byParts;

        public EntryBuilder For(in KeyParts parts, int i)
        {
            if (_byParts is null)
            {
                foreach (var entry in _entries)
                {
                    if (entry.Parts.SameAs(parts))
                    {
                        return entry;
                    }
                }
            }
            else if (_byParts.TryGetValue(parts, out var found))
            {
                return found;
            }
            var created = new EntryBuilder(parts, i);
            _entries.Add(created);
            if (_byParts is not null)
            {
                _byParts[parts] = created;
            }
            else if (_entries.Count > ScanLimit)
            {
                _byParts = _entries.ToDictionary(e => e.Parts);
            }
            return created;
        }

        public UsageEntry[] Build()
        {
            var built = new UsageEntry[_entries.Count];
            for (var k = 0; k < built.Length; k++)
            {
                built[k] = _entries[k].Build();
            }
            return built;
        }
    }

    private static ModelChoice? Choice(Guid? modelId, string? baseModel)
    {
        CheckModel(modelId, baseModel, -1);
        return modelId is { } id ? ModelChoice.FineTuned(id) : baseModel is null ? null : ModelChoice.Base(baseModel);
    }

    /// <summary>One key's events of a batch, added up.</summary>
    private sealed class EntryBuilder(KeyParts parts, int firstEvent)
    {
        private readonly List<long> _latencies = new(16);
        private long _requests, _successes, _input, _output, _ratings, _ratingSum, _ratingSquares;

        public void Add(UsageEventRequest e, int i)
        {
            var input = Tokens(e.InputTokens, i, "inputTokens");
            var output = Tokens(e.OutputTokens, i, "outputTokens");
            if (e.LatencyMs is not { } latency || !double.IsFinite(latency) || latency < 0 || latency > MaxLatencyMs)
            {
                throw ProblemException.Invalid($"events[{i}].latencyMs", $"'latencyMs' is required: the request's duration in milliseconds, 0 to {MaxLatencyMs:0}.");
            }
            var success = e.Success ?? throw ProblemException.Invalid($"events[{i}].success", "'success' (true or false) is required.");
            if (e.Satisfaction is { } rating)
            {
                if (rating is < 1 or > 5)
                {
                    throw ProblemException.Invalid($"events[{i}].satisfaction", "'satisfaction' is a rating from 1 to 5, or absent.");
                }
                _ratings++;
                _ratingSum += rating;
                _ratingSquares += rating * rating;
            }
            _requests++;
            _successes += success ? 1 : 0;
            _input += input;
            _output += output;
            _latencies.Add((long)Math.Round(latency * 1000));
        }

        public KeyParts Parts => parts;

        public UsageEntry Build() => new(parts.ToKey(), firstEvent, _requests, _successes, _input, _output, _ratings, _ratingSum, _ratingSquares, [.. _latencies]);

        private static long Tokens(long? tokens, int i, string field) =>
            tokens is { } n && n is >= 0 and <= MaxTokensPerEvent ? n
            : throw ProblemException.Invalid($"events[{i}].{field}", $"'{field}' is required: 0 to {MaxTokensPerEvent:N0}.");
    }
}
