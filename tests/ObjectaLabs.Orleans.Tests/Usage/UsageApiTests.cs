using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ObjectaLabs.Orleans.Api.Hosting;
using ObjectaLabs.Orleans.Api.Resolution;
using ObjectaLabs.Orleans.Api.Usage;
using ObjectaLabs.Orleans.Deployment;
using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Tests.Infrastructure;
using ObjectaLabs.Orleans.Usage;

namespace ObjectaLabs.Orleans.Tests.Usage;

/// <summary>Usage reported through the API with a runtime key, and the metrics read back, against figures computed by hand.</summary>
[Collection(ApiCollection.Name)]
public sealed class UsageApiTests(ApiFixture fixture)
{
    private const string Mini = "openai/gpt-4o-mini-2024-07-18"; // base prices: $0.15 in, $0.60 out per 1M tokens

    private static object Event(object model, double latencyMs, bool success = true, int? satisfaction = null, Guid? experimentId = null, string? arm = null,
        bool fellBack = false, long input = 1000, long output = 500, DateTimeOffset? at = null) => new Dictionary<string, object?>
        {
            [model is Guid ? "modelId" : "baseModel"] = model,
            ["experimentId"] = experimentId,
            ["arm"] = arm,
            ["fellBack"] = fellBack,
            ["inputTokens"] = input,
            ["outputTokens"] = output,
            ["latencyMs"] = latencyMs,
            ["success"] = success,
            ["satisfaction"] = satisfaction,
            ["timestamp"] = at ?? DateTimeOffset.UtcNow,
        };

    private async Task<(Guid Org, HttpClient Admin, HttpClient Runtime)> OrganizationAsync()
    {
        var (org, adminKey) = await fixture.CreateOrganizationAsync("business");
        var admin = fixture.Client(adminKey);
        var key = (await (await admin.PostAsJsonAsync($"/v1/organizations/{org}/api-keys", new { name = "runtime", scope = "runtime" })).ReadJsonAsync(HttpStatusCode.Created))
            .GetProperty("key").GetString();
        return (org, admin, fixture.Client(key));
    }

    [Fact]
    public async Task A_batch_is_counted_once_priced_from_the_catalog_and_read_back_as_hand_computed_figures_by_arm()
    {
        var (org, admin, runtime) = await OrganizationAsync();
        var experiment = Guid.NewGuid();
        var events = new List<object>();
        for (var i = 1; i <= 10; i++)
        {
            events.Add(Event(Mini, latencyMs: 10 * i, success: i <= 8, satisfaction: i <= 3 ? 6 - i : null));
        }
        events.AddRange(Enumerable.Range(0, 4).Select(_ => Event(Mini, 200, experimentId: experiment, arm: "control")));
        events.AddRange(Enumerable.Range(0, 2).Select(_ => Event(Mini, 300, experimentId: experiment, arm: "candidate", fellBack: true)));
        var batch = new { batchId = Guid.NewGuid(), events };

        var first = await runtime.PostAsJsonAsync($"/v1/organizations/{org}/usage", batch);
        var retry = await runtime.PostAsJsonAsync($"/v1/organizations/{org}/usage", batch);

        first.StatusCode.Should().Be(HttpStatusCode.Accepted, await first.Content.ReadAsStringAsync());
        (await first.ReadJsonAsync(HttpStatusCode.Accepted)).GetProperty("duplicate").GetBoolean().Should().BeFalse();
        var retried = await retry.ReadJsonAsync(HttpStatusCode.OK);
        retried.GetProperty("duplicate").GetBoolean().Should().BeTrue();
        retried.GetProperty("events").GetInt32().Should().Be(16);

        var url = $"/v1/organizations/{org}/usage/metrics?baseModel={Uri.EscapeDataString(Mini)}";
        JsonElement metrics = default;
        await Eventually.Async(async () => (metrics = await (await admin.GetAsync(url)).ReadJsonAsync()).GetProperty("total").GetProperty("requests").GetInt64() >= 16,
            TimeSpan.FromSeconds(15), "the batch reaches the rollups within a forward and a flush");
        await Task.Delay(TimeSpan.FromSeconds(3)); // a retry counted twice would show by now
        metrics = await (await admin.GetAsync(url)).ReadJsonAsync();

        var total = metrics.GetProperty("total");
        total.GetProperty("requests").GetInt64().Should().Be(16, "the retried batch is counted once");
        total.GetProperty("successes").GetInt64().Should().Be(14);
        total.GetProperty("inputTokens").GetInt64().Should().Be(16_000);
        total.GetProperty("outputTokens").GetInt64().Should().Be(8_000);
        total.GetProperty("costUsd").GetDecimal().Should().Be(16 * (1000 * 0.15m + 500 * 0.60m) / 1_000_000m);
        total.GetProperty("unpricedRequests").GetInt64().Should().Be(0);
        total.GetProperty("satisfactionCount").GetInt64().Should().Be(3);
        total.GetProperty("meanSatisfaction").GetDouble().Should().Be(4.0, "(5 + 4 + 3) / 3");

        var arms = metrics.GetProperty("arms").EnumerateArray().ToList();
        arms.Should().HaveCount(3);
        var plain = arms.Single(a => a.GetProperty("arm").GetString() == "none").GetProperty("metrics");
        plain.GetProperty("requests").GetInt64().Should().Be(10);
        plain.GetProperty("successRate").GetDouble().Should().Be(0.8);
        var latency = plain.GetProperty("latency");
        latency.GetProperty("meanMs").GetDouble().Should().BeApproximately(55, 0.1, "10, 20, … 100 ms");
        latency.GetProperty("p50Ms").GetDouble().Should().BeApproximately(50, 0.05);
        latency.GetProperty("p95Ms").GetDouble().Should().BeApproximately(100, 0.1);
        latency.GetProperty("p99Ms").GetDouble().Should().BeApproximately(100, 0.1);
        var control = arms.Single(a => a.GetProperty("arm").GetString() == "control");
        control.GetProperty("experimentId").GetGuid().Should().Be(experiment);
        control.GetProperty("fellBack").GetBoolean().Should().BeFalse();
        control.GetProperty("metrics").GetProperty("requests").GetInt64().Should().Be(4);
        var candidateFallback = arms.Single(a => a.GetProperty("arm").GetString() == "candidate");
        candidateFallback.GetProperty("fellBack").GetBoolean().Should().BeTrue("fallback-served subjects are counted apart from their arm");
        candidateFallback.GetProperty("metrics").GetProperty("requests").GetInt64().Should().Be(2);
        // Percentiles of everything come from the merged histogram: 10 of 16 values at most 100 ms, 4 at 200, 2 at 300.
        total.GetProperty("latency").GetProperty("p95Ms").GetDouble().Should().BeApproximately(300, 0.3);
        total.GetProperty("latency").GetProperty("p50Ms").GetDouble().Should().BeApproximately(80, 0.1);

        var experimentOnly = await (await admin.GetAsync($"{url}&experimentId={experiment}")).ReadJsonAsync();
        experimentOnly.GetProperty("total").GetProperty("requests").GetInt64().Should().Be(6);
    }

    [Fact]
    public async Task A_fine_tuned_models_usage_shows_on_its_card_and_in_its_metrics_and_no_other_organization_can_report_against_it()
    {
        var (org, admin) = await ObjectaLabs.Orleans.Tests.Training.TrainingJobsApiTests.OrganizationWithValidatedExamplesAsync(fixture, "business", 10);
        var jobId = Guid.NewGuid();
        await (await admin.PostAsJsonAsync($"/v1/organizations/{org}/training-jobs", new { id = jobId, name = "Support", baseModel = "sandbox/sandbox-small" }))
            .ReadJsonAsync(HttpStatusCode.Created);
        var model = (await ObjectaLabs.Orleans.Tests.Training.TrainingJobsApiTests.FinishedAsync(admin, org, jobId)).GetProperty("modelId").GetGuid();
        var key = (await (await admin.PostAsJsonAsync($"/v1/organizations/{org}/api-keys", new { name = "runtime", scope = "runtime" })).ReadJsonAsync(HttpStatusCode.Created))
            .GetProperty("key").GetString();
        using var runtime = fixture.Client(key);
        var (other, _, otherRuntime) = await OrganizationAsync();

        var stranger = await otherRuntime.PostAsJsonAsync($"/v1/organizations/{other}/usage", new { batchId = Guid.NewGuid(), events = new[] { Event(model, 5) } });
        var reported = await runtime.PostAsJsonAsync($"/v1/organizations/{org}/usage",
            new { batchId = Guid.NewGuid(), events = new[] { Event(model, 40, satisfaction: 5), Event(model, 60, success: false, satisfaction: 2), Event(model, 50) } });
        JsonElement card = default;
        await Eventually.Async(async () => (card = await (await admin.GetAsync($"/v1/organizations/{org}/models/{model}")).ReadJsonAsync())
            .GetProperty("usage").GetProperty("requests").GetInt64() == 3, TimeSpan.FromSeconds(15), "the card shows this month's requests");
        var metrics = await (await admin.GetAsync($"/v1/organizations/{org}/usage/metrics?modelId={model}")).ReadJsonAsync();
        var listed = await (await admin.GetAsync($"/v1/organizations/{org}/models")).ReadJsonAsync();

        (await stranger.ShouldBeProblemAsync(HttpStatusCode.BadRequest)).GetProperty("field").GetString().Should().Be("events[0].modelId");
        reported.StatusCode.Should().Be(HttpStatusCode.Accepted);
        card.GetProperty("usage").GetProperty("satisfaction").GetDouble().Should().Be(3.5);
        card.GetProperty("usage").GetProperty("ratings").GetInt64().Should().Be(2);
        card.GetProperty("usage").GetProperty("costUsd").GetDecimal().Should().Be(0m, "the sandbox's fine-tuned prices are 0");
        metrics.GetProperty("total").GetProperty("successRate").GetDouble().Should().BeApproximately(2.0 / 3, 1e-9);
        metrics.GetProperty("total").GetProperty("unpricedRequests").GetInt64().Should().Be(0);
        metrics.GetProperty("total").GetProperty("latency").GetProperty("p50Ms").GetDouble().Should().BeApproximately(50, 0.05);
        listed.EnumerateArray().Single().GetProperty("usage").GetProperty("requests").GetInt64().Should().Be(3);
    }

    [Theory]
    [InlineData("from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "from")]
    [InlineData("from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from")]
    [InlineData("from=2026-01-01T00:00:00Z&to=9999-12-31T23:59:59Z", "to")]
    [InlineData("from=0001-01-01T00:00:00Z&to=0001-01-02T00:00:00Z", "from")]
    [InlineData("to=not-a-date", "to")]
    public async Task A_metrics_range_that_is_reversed_too_long_or_out_of_time_is_refused_naming_its_bound(string range, string field)
    {
        var (org, admin, _) = await OrganizationAsync();

        var refused = await (await admin.GetAsync($"/v1/organizations/{org}/usage/metrics?baseModel={Uri.EscapeDataString(Mini)}&{range}"))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest);

        refused.GetRawText().Should().Contain(field);
    }

    [Fact]
    public async Task Batches_sent_at_once_are_judged_each_on_its_own_a_repeated_id_counted_once_and_a_refused_one_holding_up_none()
    {
        var (org, admin, runtime) = await OrganizationAsync();
        var repeated = Guid.NewGuid();
        var bodies = Enumerable.Range(0, 30).Select(i => new
        {
            batchId = i < 2 ? repeated : Guid.NewGuid(),
            events = new[] { i == 5 ? Event(Guid.NewGuid(), 5) : Event(Mini, 5) },
        }).ToList();

        var answers = await Task.WhenAll(bodies.Select(b => runtime.PostAsJsonAsync($"/v1/organizations/{org}/usage", b)));

        answers.Count(a => a.StatusCode == HttpStatusCode.Accepted).Should().Be(28);
        answers.Count(a => a.StatusCode == HttpStatusCode.OK).Should().Be(1, "the repeated batch id is counted once");
        (await answers[5].ShouldBeProblemAsync(HttpStatusCode.BadRequest)).GetProperty("field").GetString().Should().Be("events[0].modelId");
        await Eventually.Async(async () => (await (await admin.GetAsync($"/v1/organizations/{org}/usage/metrics?baseModel={Uri.EscapeDataString(Mini)}")).ReadJsonAsync())
            .GetProperty("total").GetProperty("requests").GetInt64() == 28, TimeSpan.FromSeconds(15), "28 batches of one event are counted");
    }

    [Theory]
    [InlineData("""{"events":[]}""", "batchId")]
    [InlineData("""{"batchId":"00000000-0000-0000-0000-000000000000","events":[]}""", "batchId")]
    [InlineData("""{"batchId":"7d4f0c8e-3b7a-4f7e-9d55-0a0b0c0d0e0f","events":[]}""", "events")]
    [InlineData("""{"batchId":"7d4f0c8e-3b7a-4f7e-9d55-0a0b0c0d0e0f","events":[null]}""", "events[0]")]
    public async Task A_malformed_batch_is_refused_naming_the_field(string body, string field)
    {
        var (org, _, runtime) = await OrganizationAsync();

        var refused = await (await runtime.PostAsync($"/v1/organizations/{org}/usage", new StringContent(body, Encoding.UTF8, "application/json")))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest);

        refused.GetProperty("field").GetString().Should().Be(field);
    }

    public static TheoryData<string, string> BadEvents => new()
    {
        { """{"latencyMs":5,"success":true,"inputTokens":1,"outputTokens":1}""", "events[1].modelId" },
        { """{"baseModel":"openai/gpt-4o-mini-2024-07-18","modelId":"7d4f0c8e-3b7a-4f7e-9d55-0a0b0c0d0e0f","latencyMs":5,"success":true,"inputTokens":1,"outputTokens":1}""", "events[1].modelId" },
        { """{"baseModel":"no/such-model","latencyMs":5,"success":true,"inputTokens":1,"outputTokens":1}""", "events[1].baseModel" },
        { """{"baseModel":"openai/gpt-4o-mini\u0085","latencyMs":5,"success":true,"inputTokens":1,"outputTokens":1}""", "events[1].baseModel" },
        { """{"baseModel":"","latencyMs":5,"success":true,"inputTokens":1,"outputTokens":1}""", "events[1].baseModel" },
        { """{"baseModel":"openai/gpt-4o-mini\u001f","latencyMs":5,"success":true,"inputTokens":1,"outputTokens":1}""", "events[1].baseModel" },
        { """{"baseModel":"openai/gpt-4o-mini\u007f","latencyMs":5,"success":true,"inputTokens":1,"outputTokens":1}""", "events[1].baseModel" },
        { $$"""{"baseModel":"{{new string('m', UsageApi.MaxBaseModelLength + 1)}}","latencyMs":5,"success":true,"inputTokens":1,"outputTokens":1}""", "events[1].baseModel" },
        { """{"modelId":"00000000-0000-0000-0000-000000000000","latencyMs":5,"success":true,"inputTokens":1,"outputTokens":1}""", "events[1].modelId" },
        { """{"modelId":"7d4f0c8e-3b7a-4f7e-9d55-0a0b0c0d0e0f","latencyMs":5,"success":true,"inputTokens":1,"outputTokens":1}""", "events[1].modelId" },
        { """{"baseModel":"openai/gpt-4o-mini-2024-07-18","arm":"control","latencyMs":5,"success":true,"inputTokens":1,"outputTokens":1}""", "events[1].experimentId" },
        { """{"baseModel":"openai/gpt-4o-mini-2024-07-18","experimentId":"7d4f0c8e-3b7a-4f7e-9d55-0a0b0c0d0e0f","latencyMs":5,"success":true,"inputTokens":1,"outputTokens":1}""", "events[1].arm" },
        { """{"baseModel":"openai/gpt-4o-mini-2024-07-18","latencyMs":-1,"success":true,"inputTokens":1,"outputTokens":1}""", "events[1].latencyMs" },
        { """{"baseModel":"openai/gpt-4o-mini-2024-07-18","latencyMs":5,"inputTokens":1,"outputTokens":1}""", "events[1].success" },
        { """{"baseModel":"openai/gpt-4o-mini-2024-07-18","latencyMs":5,"success":true,"inputTokens":-3,"outputTokens":1}""", "events[1].inputTokens" },
        { """{"baseModel":"openai/gpt-4o-mini-2024-07-18","latencyMs":5,"success":true,"inputTokens":1,"outputTokens":1,"satisfaction":6}""", "events[1].satisfaction" },
        { """{"baseModel":"openai/gpt-4o-mini-2024-07-18","latencyMs":5,"success":true,"inputTokens":1,"outputTokens":1,"timestamp":"2020-01-01T00:00:00Z"}""", "events[1].timestamp" },
    };

    [Theory]
    [InlineData("baseModel=openai%2Fgpt-4o-mini%01", "baseModel")]
    [InlineData("baseModel=openai%2Fgpt-4o-mini%C2%85", "baseModel")]
    [InlineData("baseModel=", "baseModel")]
    [InlineData("modelId=00000000-0000-0000-0000-000000000000", "modelId")]
    [InlineData("modelId=7d4f0c8e-3b7a-4f7e-9d55-0a0b0c0d0e0f&baseModel=openai%2Fgpt-4o-mini-2024-07-18", "modelId")]
    [InlineData("", "modelId")]
    public async Task A_metrics_query_naming_no_model_two_models_or_a_malformed_one_is_refused_naming_its_parameter(string query, string field)
    {
        var (org, admin, _) = await OrganizationAsync();

        var refused = await (await admin.GetAsync($"/v1/organizations/{org}/usage/metrics?{query}")).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var valid = await admin.GetAsync($"/v1/organizations/{org}/usage/metrics?baseModel={Uri.EscapeDataString(Mini)}");

        refused.GetProperty("field").GetString().Should().Be(field);
        valid.StatusCode.Should().Be(HttpStatusCode.OK, "the same query with a catalog model answers");
    }

    [Theory]
    [MemberData(nameof(BadEvents))]
    public async Task A_bad_event_refuses_the_whole_batch_naming_its_index_and_field_and_counts_nothing(string bad, string field)
    {
        var (org, admin, runtime) = await OrganizationAsync();
        var batchId = Guid.NewGuid();
        var good = JsonSerializer.Serialize(Event(Mini, 5), ApiFixture.Json);
        var withTimestamp = bad.Contains("timestamp", StringComparison.Ordinal) ? bad : bad.TrimEnd('}') + $",\"timestamp\":\"{DateTimeOffset.UtcNow:O}\"}}";
        var body = $"{{\"batchId\":\"{batchId}\",\"events\":[{good},{withTimestamp}]}}";

        var refused = await (await runtime.PostAsync($"/v1/organizations/{org}/usage", new StringContent(body, Encoding.UTF8, "application/json")))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        // The refusal took nothing: the same batch id, corrected, is counted.
        var corrected = await runtime.PostAsJsonAsync($"/v1/organizations/{org}/usage", new { batchId, events = new[] { Event(Mini, 5) } });

        refused.GetProperty("field").GetString().Should().Be(field);
        corrected.StatusCode.Should().Be(HttpStatusCode.Accepted);
        await Eventually.Async(async () => (await (await admin.GetAsync($"/v1/organizations/{org}/usage/metrics?baseModel={Uri.EscapeDataString(Mini)}")).ReadJsonAsync())
            .GetProperty("total").GetProperty("requests").GetInt64() == 1, TimeSpan.FromSeconds(15), "only the corrected batch's one event is counted");
    }

    [Theory]
    [InlineData("\"4\"", "inputTokens")]
    [InlineData("1.5", "inputTokens")]
    [InlineData("\"yes\"", "success")]
    [InlineData("\"sometimes\"", "arm")]
    public async Task A_value_of_the_wrong_type_is_refused_naming_its_path(string value, string property)
    {
        var (org, _, runtime) = await OrganizationAsync();
        var fields = new Dictionary<string, string>
        {
            ["baseModel"] = $"\"{Mini}\"",
            ["latencyMs"] = "5",
            ["success"] = "true",
            ["inputTokens"] = "1",
            ["outputTokens"] = "1",
            ["timestamp"] = $"\"{DateTimeOffset.UtcNow:O}\"",
        };
        fields[property] = value;
        var body = $"{{\"batchId\":\"{Guid.NewGuid()}\",\"events\":[{{{string.Join(',', fields.Select(f => $"\"{f.Key}\":{f.Value}"))}}}]}}";

        var refused = await (await runtime.PostAsync($"/v1/organizations/{org}/usage", new StringContent(body, Encoding.UTF8, "application/json")))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest);

        refused.GetRawText().Should().Contain($"events[0].{property}");
    }

    [Fact]
    public async Task Batches_sent_together_are_counted_added_up_in_one_call_exactly_as_sent()
    {
        var (org, admin, runtime) = await OrganizationAsync();
        var sender = fixture.ApiServices().GetRequiredService<UsageSender>();
        var mergedBefore = sender.MergedBatches;
        // 60 batches at once, each of three keys: plain, served by the fallback, and another base model.
        var bodies = Enumerable.Range(0, 60).Select(i => new
        {
            batchId = Guid.NewGuid(),
            events = new[]
            {
                Event(Mini, 100 + i, success: i % 4 != 0, satisfaction: i % 2 == 0 ? 4 : null, input: 1000 + i, output: 10),
                Event(Mini, 50, fellBack: true, input: 7, output: 3),
                Event("sandbox/sandbox-small", 20, input: 1, output: 1),
            },
        }).ToList();

        var answers = await Task.WhenAll(bodies.Select(b => runtime.PostAsJsonAsync($"/v1/organizations/{org}/usage", b)));

        answers.Should().OnlyContain(a => a.StatusCode == HttpStatusCode.Accepted);
        (sender.MergedBatches - mergedBefore).Should().BeGreaterThan(1, "batches that arrive while a call is in flight go added up in the next");
        var url = $"/v1/organizations/{org}/usage/metrics?baseModel={Uri.EscapeDataString(Mini)}";
        await Eventually.Async(async () => (await (await admin.GetAsync(url)).ReadJsonAsync()).GetProperty("total").GetProperty("requests").GetInt64() == 120,
            TimeSpan.FromSeconds(15), "every batch's two events of this model are counted");
        var metrics = await (await admin.GetAsync(url)).ReadJsonAsync();
        var total = metrics.GetProperty("total");
        total.GetProperty("successes").GetInt64().Should().Be(120 - 15, "one plain event in four failed");
        total.GetProperty("inputTokens").GetInt64().Should().Be(Enumerable.Range(0, 60).Sum(i => 1000 + i) + 60 * 7);
        total.GetProperty("satisfactionCount").GetInt64().Should().Be(30);
        var arms = metrics.GetProperty("arms").EnumerateArray().ToList();
        arms.Single(a => a.GetProperty("fellBack").GetBoolean()).GetProperty("metrics").GetProperty("requests").GetInt64().Should().Be(60, "the fallback's are counted apart");
    }

    [Fact]
    public void Added_up_batches_hold_per_key_the_sums_of_every_batchs_entries()
    {
        var now = new DateTimeOffset(2026, 12, 7, 23, 40, 0, TimeSpan.Zero);
        var random = new Random(3);
        var batches = Enumerable.Range(0, 20).Select(b => UsageApi.ToBatch(new UsageApi.UsageBatchRequest(Guid.NewGuid(), [.. Enumerable.Range(0, 30).Select(_ =>
            new UsageApi.UsageEventRequest(null, random.Next(2) == 0 ? Mini : "sandbox/sandbox-small", null, null, random.Next(3) == 0, random.Next(100), random.Next(100),
                random.Next(1000), random.Next(2) == 0, random.Next(2) == 0 ? random.Next(1, 6) : null, now))]), now)).ToList();

        var merged = UsageMerge.Of(batches);

        var entries = batches.SelectMany(b => b.Entries).ToList();
        merged.Should().HaveCount(entries.Select(e => e.Key).Distinct().Count());
        foreach (var entry in merged)
        {
            var parts = entries.Where(e => e.Key == entry.Key).ToList();
            entry.Requests.Should().Be(parts.Sum(p => p.Requests));
            entry.Successes.Should().Be(parts.Sum(p => p.Successes));
            entry.InputTokens.Should().Be(parts.Sum(p => p.InputTokens));
            entry.OutputTokens.Should().Be(parts.Sum(p => p.OutputTokens));
            entry.Ratings.Should().Be(parts.Sum(p => p.Ratings));
            entry.RatingSum.Should().Be(parts.Sum(p => p.RatingSum));
            entry.RatingSquares.Should().Be(parts.Sum(p => p.RatingSquares));
            entry.LatenciesMicroseconds.Should().Equal(parts.SelectMany(p => p.LatenciesMicroseconds));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(42)]
    public void Interleaved_events_are_added_up_by_key_exactly_as_a_plain_grouping_of_them(int seed)
    {
        // Few keys (compared in place) and many (found by hash past eight), interleaved, with hours in other offsets.
        var random = new Random(seed);
        var now = new DateTimeOffset(2026, 12, 7, 23, 40, 0, TimeSpan.Zero);
        string[] baseModels = [Mini, "sandbox/sandbox-small", "openai/gpt-4.1-mini-2025-04-14"];
        Guid[] models = [Guid.NewGuid(), Guid.NewGuid()];
        Guid[] experiments = [Guid.NewGuid(), Guid.NewGuid()];
        var events = Enumerable.Range(0, 1000).Select(i =>
        {
            var fineTuned = random.Next(4) == 0;
            var experiment = random.Next(3) == 0 ? experiments[random.Next(2)] : (Guid?)null;
            var offset = TimeSpan.FromMinutes(random.Next(3) * 330);
            var at = now.AddMinutes(-random.Next(seed * 60)).ToOffset(offset);
            return new UsageApi.UsageEventRequest(fineTuned ? models[random.Next(2)] : null, fineTuned ? null : new string(baseModels[random.Next(3)]),
                experiment, experiment is null ? null : (random.Next(2) == 0 ? UsageArm.Control : UsageArm.Candidate), random.Next(5) == 0,
                random.Next(5000), random.Next(900), random.Next(100_000) / 10.0, random.Next(10) != 0, random.Next(3) == 0 ? random.Next(1, 6) : null, at);
        }).ToList();

        var batch = UsageApi.ToBatch(new UsageApi.UsageBatchRequest(Guid.NewGuid(), events), now);

        var expected = events.Select((e, i) => (Event: e, Index: i, Key: new UsageKey(e.ModelId is { } id ? ModelChoice.FineTuned(id) : ModelChoice.Base(e.BaseModel!),
                e.ExperimentId, e.Arm ?? UsageArm.None, e.FellBack ?? false, UsageKey.HourOf(e.Timestamp!.Value))))
            .GroupBy(x => x.Key)
            .Select(g => new UsageEntry(g.Key, g.First().Index, g.Count(), g.Count(x => x.Event.Success == true), g.Sum(x => x.Event.InputTokens!.Value),
                g.Sum(x => x.Event.OutputTokens!.Value), g.Count(x => x.Event.Satisfaction is not null), g.Sum(x => (long)(x.Event.Satisfaction ?? 0)),
                g.Sum(x => (long)(x.Event.Satisfaction ?? 0) * (x.Event.Satisfaction ?? 0)), [.. g.Select(x => (long)Math.Round(x.Event.LatencyMs!.Value * 1000))]))
            .ToList();
        batch.Entries.Should().HaveCountGreaterThan(8, "the seeds make more keys than are compared in place");
        batch.Entries.Should().BeEquivalentTo(expected, o => o.ComparingByMembers<UsageEntry>().WithStrictOrdering(), "entries in the order their keys first appear, each added up exactly");
        batch.Entries.Sum(e => e.Requests).Should().Be(1000);
    }

    [Fact]
    public void A_batch_holds_at_most_a_thousand_events_and_a_full_one_fits_the_default_body_limit()
    {
        var now = DateTimeOffset.UtcNow;
        UsageApi.UsageEventRequest Full(int i) => new(Guid.NewGuid(), null, Guid.NewGuid(), UsageArm.Candidate, true, 99_999_999, 99_999_999, 3_599_999.999, true, 5, now);

        var thousand = UsageApi.ToBatch(new UsageApi.UsageBatchRequest(Guid.NewGuid(), [.. Enumerable.Range(0, 1000).Select(Full)]), now);
        var tooMany = () => UsageApi.ToBatch(new UsageApi.UsageBatchRequest(Guid.NewGuid(), [.. Enumerable.Range(0, 1001).Select(Full)]), now);
        var fullBody = JsonSerializer.SerializeToUtf8Bytes(new UsageApi.UsageBatchRequest(Guid.NewGuid(), [.. Enumerable.Range(0, 1000).Select(Full)]), ApiFixture.Json);

        thousand.Events.Should().Be(1000);
        thousand.Entries.Should().HaveCount(1000, "every event has its own model and experiment here");
        tooMany.Should().Throw<ProblemException>().Which.Field.Should().Be("events");
        ((long)fullBody.Length).Should().BeLessThan(new ApiOptions().MaxRequestBodyBytes, "the largest batch fits the default request body limit");
    }

    [Fact]
    public async Task Another_organizations_usage_and_models_are_out_of_reach()
    {
        var (org, admin, runtime) = await OrganizationAsync();
        var (other, otherAdmin, otherRuntime) = await OrganizationAsync();
        (await runtime.PostAsJsonAsync($"/v1/organizations/{org}/usage", new { batchId = Guid.NewGuid(), events = new[] { Event(Mini, 5) } }))
            .StatusCode.Should().Be(HttpStatusCode.Accepted);
        var mine = $"/v1/organizations/{org}/usage/metrics?baseModel={Uri.EscapeDataString(Mini)}";
        await Eventually.Async(async () => (await (await admin.GetAsync(mine)).ReadJsonAsync()).GetProperty("total").GetProperty("requests").GetInt64() == 1,
            TimeSpan.FromSeconds(15), "the organization's own usage is counted");

        var readMine = await otherAdmin.GetAsync(mine);
        var reportToMine = await otherRuntime.PostAsJsonAsync($"/v1/organizations/{org}/usage", new { batchId = Guid.NewGuid(), events = new[] { Event(Mini, 5) } });
        var theirs = await (await otherAdmin.GetAsync($"/v1/organizations/{other}/usage/metrics?baseModel={Uri.EscapeDataString(Mini)}")).ReadJsonAsync();
        var runtimeReads = await runtime.GetAsync(mine);

        readMine.StatusCode.Should().Be(HttpStatusCode.NotFound, "another organization is not there for this key");
        reportToMine.StatusCode.Should().Be(HttpStatusCode.NotFound);
        theirs.GetProperty("total").GetProperty("requests").GetInt64().Should().Be(0);
        runtimeReads.StatusCode.Should().Be(HttpStatusCode.Forbidden, "metrics need the admin key");
    }

    [Fact]
    public async Task The_fast_path_takes_plain_reports_exactly_as_the_general_pipeline_does_and_passes_every_other_case_on()
    {
        var (org, admin, runtime) = await OrganizationAsync();
        using var adminClient = admin;
        using var runtimeClient = runtime;
        var key = runtime.DefaultRequestHeaders.Authorization!.Parameter!;
        // Bodies up to 256 KiB, so a batch of 1,001 events fits and is refused for its count, not its size.
        var fast = await fixture.StartApiAsync(new Dictionary<string, string?> { ["Api:MaxRequestBodyBytes"] = "262144" });
        var general = await fixture.StartApiAsync(new Dictionary<string, string?> { ["Api:UsageFastPath"] = "false", ["Api:MaxRequestBodyBytes"] = "262144" });
        using var onFast = fixture.Client(key, fast);
        using var onGeneral = fixture.Client(key, general);
        var path = $"/v1/organizations/{org}/usage";
        object NewBatch(int i) => new { batchId = Guid.NewGuid(), events = new[] { Event(Mini, 10 + i, satisfaction: 1 + i % 5), Event("sandbox/sandbox-small", 20, success: i % 2 == 0) } };
        // Both hosts hold the organization after the first valid key check, so the fast host checks the key from memory.
        (await onFast.PostAsJsonAsync(path, NewBatch(0))).StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await onGeneral.PostAsJsonAsync(path, NewBatch(0))).StatusCode.Should().Be(HttpStatusCode.Accepted);
        await Eventually.Async(() => Task.FromResult(fixture.ApiServices(fast).GetRequiredService<ResolutionCache>().TryGetHeld(org, out _)), TimeSpan.FromSeconds(5));
        var counter = fixture.ApiServices(fast).GetRequiredService<UsageFastPathCounter>();
        var before = counter.Taken;

        // Each batch is new on one host and then a retry on the other: both hosts count it once, and answer alike.
        var firsts = new List<(HttpStatusCode Status, string Body)>();
        var retries = new List<(HttpStatusCode Status, string Body)>();
        for (var i = 0; i < 10; i++)
        {
            var (newOn, retryOn) = i % 2 == 0 ? (onFast, onGeneral) : (onGeneral, onFast);
            var batch = NewBatch(i);
            var id = JsonSerializer.SerializeToElement(batch).GetProperty("batchId").GetGuid().ToString();
            foreach (var (client, answers) in new[] { (newOn, firsts), (retryOn, retries) })
            {
                var response = await client.PostAsJsonAsync(path, batch);
                answers.Add((response.StatusCode, (await response.Content.ReadAsStringAsync()).Replace(id, "ID", StringComparison.Ordinal)));
            }
        }
        var plain = counter.Taken - before;

        var other = await fixture.CreateOrganizationAsync();
        var valid = JsonSerializer.Serialize(NewBatch(1));
        (string Path, string Body, string ContentType)[] cases =
        [
            (path, "{\"batchId\":", "application/json"),
            (path, valid.Replace("sandbox/sandbox-small", "sandbox/\\u0000small", StringComparison.Ordinal), "application/json"),
            (path, valid.Replace("\"batchId\"", "\"batchIdentifier\"", StringComparison.Ordinal), "application/json"),
            (path, $"{{\"batchId\":\"{Guid.NewGuid()}\",\"events\":[]}}", "application/json"),
            (path, valid.Replace("\"latencyMs\":11", "\"latencyMs\":-1", StringComparison.Ordinal), "application/json"),
            (path, "null", "application/json"),
            (path, valid, "text/plain"),
            ($"/v1/organizations/{other.Id}/usage", valid, "application/json"),
            (path, valid.Replace("sandbox/sandbox-small", "nope/not-in-the-catalog", StringComparison.Ordinal), "application/json"),
        ];
        var refusals = new List<(HttpStatusCode Fast, HttpStatusCode General, string? FastField, string? GeneralField)>();
        var takenBefore = counter.Taken;
        foreach (var (route, body, type) in cases)
        {
            var f = await onFast.PostAsync(route, new StringContent(body, Encoding.UTF8, type));
            var g = await onGeneral.PostAsync(route, new StringContent(body, Encoding.UTF8, type));
            refusals.Add((f.StatusCode, g.StatusCode, await FieldAsync(f), await FieldAsync(g)));
        }
        var takenByRefusals = counter.Taken - takenBefore;

        // Whole classes of bad input, as bytes: encodings, JSON edge cases, types, limits, another organization's model.
        byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
        var invalidUtf8 = Utf8(valid).AsSpan().ToArray();
        var at = valid.IndexOf("sandbox/sandbox-small", StringComparison.Ordinal);
        invalidUtf8[at] = 0xFF;
        invalidUtf8[at + 1] = 0xFE;
        string WithEvents(int count) => JsonSerializer.Serialize(new { batchId = Guid.NewGuid(), events = Enumerable.Range(0, count).Select(_ => Event(Mini, 5)).ToList() });
        (string Name, byte[] Body)[] classes =
        [
            ("raw invalid UTF-8", invalidUtf8),
            ("escaped lone surrogate", Utf8(valid.Replace("sandbox/sandbox-small", "sandbox/\\ud800", StringComparison.Ordinal))),
            ("number as a string", Utf8(valid.Replace("\"inputTokens\":1000", "\"inputTokens\":\"1000\"", StringComparison.Ordinal))),
            ("number out of range", Utf8(valid.Replace("\"inputTokens\":1000", "\"inputTokens\":1e400", StringComparison.Ordinal))),
            ("1,001 events", Utf8(WithEvents(1_001))),
            ("nesting 300 deep", Utf8($"{{\"batchId\":\"{Guid.NewGuid()}\",\"events\":{new string('[', 300)}{new string(']', 300)}}}")),
            ("empty body", []),
            ("over the body limit", Utf8(valid.Insert(1, new string(' ', 270_000)))),
            ("another organization's model", Utf8(JsonSerializer.Serialize(new { batchId = Guid.NewGuid(), events = new[] { Event(Guid.NewGuid(), 5) } }))),
        ];
        var classAnswers = new List<(string Name, HttpStatusCode Fast, HttpStatusCode General, string? FastField, string? GeneralField)>();
        var takenBeforeClasses = counter.Taken;
        foreach (var (name, body) in classes)
        {
            HttpContent Content() => new ByteArrayContent(body) { Headers = { ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") } };
            var f = await onFast.PostAsync(path, Content());
            var g = await onGeneral.PostAsync(path, Content());
            classAnswers.Add((name, f.StatusCode, g.StatusCode, await FieldAsync(f), await FieldAsync(g)));
        }
        var takenByClasses = counter.Taken - takenBeforeClasses;
        using var viaHeader = new HttpClient { BaseAddress = fast };
        viaHeader.DefaultRequestHeaders.Add("X-Api-Key", key);
        var header = await viaHeader.PostAsJsonAsync(path, NewBatch(3));

        plain.Should().Be(10, "each plain report sent to the fast host was taken there, new or a retry");
        firsts.Should().AllSatisfy(a => a.Status.Should().Be(HttpStatusCode.Accepted));
        retries.Should().AllSatisfy(a => a.Status.Should().Be(HttpStatusCode.OK));
        firsts.Select(a => a.Body).Distinct().Should().ContainSingle("a new batch is answered alike on both hosts");
        retries.Select(a => a.Body).Distinct().Should().ContainSingle("a retried batch is answered alike on both hosts");
        JsonDocument.Parse(retries[0].Body).RootElement.GetProperty("duplicate").GetBoolean().Should().BeTrue();
        refusals.Should().AllSatisfy(r => { r.Fast.Should().Be(r.General); r.FastField.Should().Be(r.GeneralField); });
        refusals.Select(r => (int)r.Fast).Should().Equal(400, 400, 400, 400, 400, 400, 415, 404, 400);
        refusals[1].FastField.Should().Be("$.events[1].baseModel");
        refusals[4].FastField.Should().Be("events[0].latencyMs");
        refusals[8].FastField.Should().Be("events[1].baseModel");
        classAnswers.Should().AllSatisfy(c => { c.Fast.Should().Be(c.General, c.Name); c.FastField.Should().Be(c.GeneralField, c.Name); });
        classAnswers.Select(c => (int)c.Fast).Should().Equal(400, 400, 400, 400, 400, 400, 400, 413, 400);
        classAnswers.Select(c => c.FastField).Should().Equal(
            "$.events[1].baseModel", "$.events[1].baseModel", "$.events[0].inputTokens", "$.events[0].inputTokens", "events", "$.events[0]", "$", null, "events[0].modelId");
        takenByClasses.Should().Be(1, "only the report of another organization's model passed the API's checks; the cluster refused it");
        takenByRefusals.Should().Be(1, "only the report whose model the cluster refuses passed the checks taken on the fast path");
        header.StatusCode.Should().Be(HttpStatusCode.Accepted, "a key in X-Api-Key goes through the general pipeline, same answer");
        counter.Taken.Should().Be(takenBefore + takenByRefusals + takenByClasses, "the report with its key in X-Api-Key was not taken on the fast path");
        fixture.ApiServices(general).GetRequiredService<UsageFastPathCounter>().Taken.Should().Be(0);
    }

    [Fact]
    public async Task A_report_over_the_rate_limit_on_the_fast_path_is_answered_429_and_counts_nothing()
    {
        var (org, tight, client) = await HeldOnTightHostAsync(burst: 3);
        using var _ = client;
        var path = $"/v1/organizations/{org}/usage";
        var counter = fixture.ApiServices(tight).GetRequiredService<UsageFastPathCounter>();
        var before = counter.Taken;

        var batches = Enumerable.Range(0, 6).Select(i => new { batchId = Guid.NewGuid(), events = new[] { Event(Mini, 10 + i) } }).ToList();
        var answers = new List<HttpResponseMessage>();
        foreach (var batch in batches)
        {
            answers.Add(await client.PostAsJsonAsync(path, batch));
        }
        var refused = answers.FindIndex(a => a.StatusCode == HttpStatusCode.TooManyRequests);
        var taken = counter.Taken - before;
        await Task.Delay(TimeSpan.FromSeconds(2));
        var again = await client.PostAsJsonAsync(path, batches[refused]);

        refused.Should().BePositive("the burst of 3 lets the first reports through and refuses a later one");
        answers[refused].Headers.RetryAfter.Should().NotBeNull();
        (await answers[refused].Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString().Should().Be("Too many requests");
        taken.Should().Be(answers.Count(a => a.StatusCode == HttpStatusCode.Accepted), "only what was answered 202 was taken");
        again.StatusCode.Should().Be(HttpStatusCode.Accepted, "the refused batch was not counted, so sent again it is new, not a duplicate");
    }

    [Fact]
    public async Task A_malformed_report_passed_on_by_the_fast_path_is_charged_one_permit_not_two()
    {
        var (org, tight, client) = await HeldOnTightHostAsync(burst: 4);
        using var _ = client;
        var path = $"/v1/organizations/{org}/usage";
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // the bucket refills to its burst of 4

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++)
        {
            statuses.Add((await client.PostAsync(path, new StringContent("{\"batchId\":", Encoding.UTF8, "application/json"))).StatusCode);
        }

        statuses.Should().Contain(HttpStatusCode.TooManyRequests, "the limit holds for malformed reports too");
        statuses.TakeWhile(s => s == HttpStatusCode.BadRequest).Count().Should().BeGreaterThanOrEqualTo(3,
            "each malformed report costs one permit of the burst of 4 (charged twice, only two would pass)");
    }

    /// <summary>An organization whose runtime key a new API host (runtime limit: the burst, then 1 a second) holds, after one report.</summary>
    private async Task<(Guid Org, Uri Host, HttpClient Client)> HeldOnTightHostAsync(int burst)
    {
        var (org, admin, runtime) = await OrganizationAsync();
        using var adminClient = admin;
        using var runtimeClient = runtime;
        var host = await fixture.StartApiAsync(new Dictionary<string, string?>
        {
            ["RateLimits:Runtime:Burst"] = burst.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RateLimits:Runtime:PermitsPerSecond"] = "1",
        });
        var client = fixture.Client(runtime.DefaultRequestHeaders.Authorization!.Parameter!, host);
        (await client.PostAsJsonAsync($"/v1/organizations/{org}/usage", new { batchId = Guid.NewGuid(), events = new[] { Event(Mini, 5) } }))
            .StatusCode.Should().Be(HttpStatusCode.Accepted);
        await Eventually.Async(() => Task.FromResult(fixture.ApiServices(host).GetRequiredService<ResolutionCache>().TryGetHeld(org, out _)), TimeSpan.FromSeconds(5));
        return (org, host, client);
    }

    private static async Task<string?> FieldAsync(HttpResponseMessage response) =>
        response.Content.Headers.ContentType?.MediaType == "application/problem+json"
            && JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.TryGetProperty("field", out var field)
            ? field.GetString()
            : null;
}
