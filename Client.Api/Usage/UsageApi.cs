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
        var model = Choice(modelId, baseModel, "") ?? throw ProblemException.Invalid("modelId", "Give 'modelId' (a fine-tuned model) or 'baseModel' (a catalog model).");
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
        var entries = new Dictionary<UsageKey, EntryBuilder>(8);
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i] ?? throw ProblemException.Invalid($"events[{i}]", "An event must be an object.");
            var key = KeyOf(e, i, now);
            if (!entries.TryGetValue(key, out var entry))
            {
                entries[key] = entry = new EntryBuilder(key, i);
            }
            entry.Add(e, i);
        }
        return new UsageBatch(batchId, events.Count, [.. entries.Values.Select(b => b.Build())]);
    }

    private static UsageKey KeyOf(UsageEventRequest e, int i, DateTimeOffset now)
    {
        var model = Choice(e.ModelId, e.BaseModel, $"events[{i}].")
            ?? throw ProblemException.Invalid($"events[{i}].modelId", "Each event names the model that served it: 'modelId' or 'baseModel'.");
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
        return new UsageKey(model, e.ExperimentId, arm, e.FellBack ?? false, UsageKey.HourOf(at));
    }

    private static ModelChoice? Choice(Guid? modelId, string? baseModel, string prefix)
    {
        if (modelId is not null && baseModel is not null)
        {
            throw ProblemException.Invalid($"{prefix}modelId", "Give 'modelId' or 'baseModel', not both.");
        }
        if (modelId is { } id)
        {
            return id == Guid.Empty ? throw ProblemException.Invalid($"{prefix}modelId", "'modelId' is not a model id.") : ModelChoice.FineTuned(id);
        }
        if (baseModel is null)
        {
            return null;
        }
        if (baseModel.Length is 0 or > MaxBaseModelLength || baseModel.Any(char.IsControl))
        {
            throw ProblemException.Invalid($"{prefix}baseModel", $"'baseModel' is a catalog model id of 1 to {MaxBaseModelLength} characters.");
        }
        return ModelChoice.Base(baseModel);
    }

    /// <summary>One key's events of a batch, added up.</summary>
    private sealed class EntryBuilder(UsageKey key, int firstEvent)
    {
        private readonly List<long> _latencies = [];
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

        public UsageEntry Build() => new(key, firstEvent, _requests, _successes, _input, _output, _ratings, _ratingSum, _ratingSquares, [.. _latencies]);

        private static long Tokens(long? tokens, int i, string field) =>
            tokens is { } n && n is >= 0 and <= MaxTokensPerEvent ? n
            : throw ProblemException.Invalid($"events[{i}].{field}", $"'{field}' is required: 0 to {MaxTokensPerEvent:N0}.");
    }
}
