using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ObjectaLabs.Orleans.Tests.Infrastructure;

namespace ObjectaLabs.Orleans.Tests.Deployment;

/// <summary>
/// Experiments run end to end: subjects resolved through the API (sticky arms), their requests reported as usage with
/// a known truth per arm (seeded), the results read back and acted on.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class ExperimentResultsApiTests(ApiFixture fixture)
{
    private const string Control = "openai/gpt-4o-mini-2024-07-18";
    private const string Candidate = "openai/gpt-4.1-mini-2025-04-14";
    private const string Fallback = "sandbox/sandbox-small";

    private sealed record Setup(Guid Org, Guid Agent, HttpClient Admin, HttpClient Runtime, Guid ExperimentId)
    {
        public string Deployment => $"/v1/organizations/{Org}/agents/{Agent}/deployment";
    }

    private async Task<Setup> ExperimentAsync(double share = 0.5)
    {
        var (org, adminKey) = await fixture.CreateOrganizationAsync("business");
        var admin = fixture.Client(adminKey);
        var agent = (await (await admin.PostAsJsonAsync($"/v1/organizations/{org}/agents", new { name = "Bot", defaultBaseModel = Fallback }))
            .ReadJsonAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();
        var deployment = $"/v1/organizations/{org}/agents/{agent}/deployment";
        await (await admin.PutAsJsonAsync(deployment, new { model = new { baseModel = Control }, fallback = new { baseModel = Fallback } })).ReadJsonAsync();
        var experiment = (await (await admin.PostAsJsonAsync($"{deployment}/experiment",
                new { candidate = new { baseModel = Candidate }, candidateShare = share, margin = 0.02, minimumSample = 100 })).ReadJsonAsync())
            .GetProperty("experiment").GetProperty("id").GetGuid();
        var key = (await (await admin.PostAsJsonAsync($"/v1/organizations/{org}/api-keys", new { name = "runtime", scope = "runtime" })).ReadJsonAsync(HttpStatusCode.Created))
            .GetProperty("key").GetString();
        return new Setup(org, agent, admin, fixture.Client(key), experiment);
    }

    /// <summary>
    /// Resolves <paramref name="subjects"/> conversations and reports one request each as the runtime would: the model resolve
    /// answered, its experiment and arm, success with the arm's probability and a rating around the arm's mean (seeded).
    /// </summary>
    private static async Task<(int Control, int Candidate)> RunAsync(Setup setup, int subjects, double controlSuccess, double candidateSuccess,
        int controlRating, int candidateRating, int seed)
    {
        var random = new Random(seed);
        var events = new List<object>();
        int control = 0, candidate = 0;
        for (var i = 0; i < subjects; i++)
        {
            var answer = await (await setup.Runtime.GetAsync($"/v1/organizations/{setup.Org}/agents/{setup.Agent}/resolve?subject=conversation-{seed}-{i}")).ReadJsonAsync();
            var arm = answer.GetProperty("arm").GetString()!;
            var isCandidate = arm == "candidate";
            _ = isCandidate ? candidate++ : control++;
            var success = random.NextDouble() < (isCandidate ? candidateSuccess : controlSuccess);
            var rating = Math.Clamp((isCandidate ? candidateRating : controlRating) + random.Next(-1, 2), 1, 5);
            events.Add(new
            {
                baseModel = answer.GetProperty("name").GetString(),
                experimentId = answer.GetProperty("experimentId").GetGuid(),
                arm,
                fellBack = answer.GetProperty("fellBack").GetBoolean(),
                inputTokens = 200,
                outputTokens = 80,
                latencyMs = 300 + random.Next(200),
                success,
                satisfaction = rating,
                timestamp = DateTimeOffset.UtcNow,
            });
        }
        foreach (var batch in events.Chunk(200))
        {
            (await setup.Runtime.PostAsJsonAsync($"/v1/organizations/{setup.Org}/usage", new { batchId = Guid.NewGuid(), events = batch }))
                .StatusCode.Should().Be(HttpStatusCode.Accepted);
        }
        return (control, candidate);
    }

    private static async Task<JsonElement> ResultsOnceCountedAsync(Setup setup, long requests)
    {
        JsonElement results = default;
        await Eventually.Async(async () =>
        {
            results = await (await setup.Admin.GetAsync($"{setup.Deployment}/experiment/results")).ReadJsonAsync();
            return results.GetProperty("controlMetrics").GetProperty("requests").GetInt64() + results.GetProperty("candidateMetrics").GetProperty("requests").GetInt64() == requests;
        }, TimeSpan.FromSeconds(15), "every reported request reaches the results");
        return results;
    }

    [Fact]
    public async Task A_better_candidate_is_found_better_on_both_metrics_and_promoted_with_its_verdicts_kept()
    {
        var setup = await ExperimentAsync();
        var early = await (await setup.Admin.GetAsync($"{setup.Deployment}/experiment/results")).ReadJsonAsync();
        var (control, candidate) = await RunAsync(setup, 2000, controlSuccess: 0.80, candidateSuccess: 0.95, controlRating: 3, candidateRating: 4, seed: 7);

        var results = await ResultsOnceCountedAsync(setup, 2000);
        var promoted = await (await setup.Admin.PostAsync($"{setup.Deployment}/experiment/promote", null)).ReadJsonAsync();

        early.GetProperty("analysis").GetProperty("successRate").GetProperty("verdict").GetString().Should().Be("notEnoughData");
        results.GetProperty("controlMetrics").GetProperty("requests").GetInt64().Should().Be(control);
        results.GetProperty("candidateMetrics").GetProperty("requests").GetInt64().Should().Be(candidate);
        var success = results.GetProperty("analysis").GetProperty("successRate");
        success.GetProperty("verdict").GetString().Should().Be("candidateBetter", success.GetRawText());
        success.GetProperty("lower").GetDouble().Should().BeGreaterThan(0.02);
        success.GetProperty("difference").GetDouble().Should().BeApproximately(0.15, 0.04);
        results.GetProperty("analysis").GetProperty("satisfaction").GetProperty("verdict").GetString().Should().Be("candidateBetter");
        results.GetProperty("analysis").GetProperty("sampleRatio").GetProperty("mismatch").GetBoolean().Should().BeFalse("a 50/50 sticky split of 2,000 subjects");
        promoted.GetProperty("model").GetProperty("baseModel").GetString().Should().Be(Candidate);
        var past = promoted.GetProperty("pastExperiments")[0];
        past.GetProperty("status").GetString().Should().Be("promoted");
        past.GetProperty("outcome").GetProperty("successRate").GetString().Should().Be("candidateBetter");
        past.GetProperty("outcome").GetProperty("forced").GetBoolean().Should().BeFalse();
        var kept = await (await setup.Admin.GetAsync($"{setup.Deployment}/experiment/results?experimentId={setup.ExperimentId}")).ReadJsonAsync();
        kept.GetProperty("status").GetString().Should().Be("promoted");
        kept.GetProperty("analysis").GetProperty("successRate").GetProperty("verdict").GetString().Should().Be("candidateBetter");
    }

    [Fact]
    public async Task A_worse_candidate_is_not_promoted_unless_forced_and_stopping_keeps_its_verdict()
    {
        var setup = await ExperimentAsync();
        await RunAsync(setup, 1500, controlSuccess: 0.95, candidateSuccess: 0.75, controlRating: 4, candidateRating: 4, seed: 11);
        var results = await ResultsOnceCountedAsync(setup, 1500);

        var refused = await (await setup.Admin.PostAsync($"{setup.Deployment}/experiment/promote", null)).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        var still = await (await setup.Admin.GetAsync(setup.Deployment)).ReadJsonAsync();
        var stopped = await (await setup.Admin.PostAsync($"{setup.Deployment}/experiment/stop", null)).ReadJsonAsync();

        results.GetProperty("analysis").GetProperty("successRate").GetProperty("verdict").GetString().Should().Be("candidateWorse");
        refused.GetProperty("successRateVerdict").GetString().Should().Be("candidateWorse");
        still.GetProperty("experiment").GetProperty("id").GetGuid().Should().Be(setup.ExperimentId, "a refused promotion changes nothing");
        stopped.GetProperty("model").GetProperty("baseModel").GetString().Should().Be(Control);
        stopped.GetProperty("pastExperiments")[0].GetProperty("outcome").GetProperty("successRate").GetString().Should().Be("candidateWorse");
    }

    [Fact]
    public async Task Equal_arms_are_found_no_different_and_a_forced_promotion_says_so()
    {
        var setup = await ExperimentAsync();
        await RunAsync(setup, 3000, controlSuccess: 1.0, candidateSuccess: 1.0, controlRating: 4, candidateRating: 4, seed: 5);
        var results = await ResultsOnceCountedAsync(setup, 3000);
        var promoted = await (await setup.Admin.PostAsync($"{setup.Deployment}/experiment/promote?force=true", null)).ReadJsonAsync();

        results.GetProperty("analysis").GetProperty("successRate").GetProperty("verdict").GetString().Should().Be("noDifference",
            results.GetProperty("analysis").GetProperty("successRate").GetRawText());
        promoted.GetProperty("pastExperiments")[0].GetProperty("outcome").GetProperty("forced").GetBoolean().Should().BeTrue();
    }

    [Fact]
    public async Task Requests_the_fallback_served_are_counted_apart_and_a_skewed_split_is_flagged()
    {
        var setup = await ExperimentAsync(share: 0.5);
        // The runtime reports every request as served by the fallback on the candidate arm, and none on control: the
        // arm's own figures stay empty, and the split of assignments (all candidate) is flagged.
        var events = Enumerable.Range(0, 400).Select(i => new
        {
            baseModel = Fallback,
            experimentId = setup.ExperimentId,
            arm = "candidate",
            fellBack = true,
            inputTokens = 1,
            outputTokens = 1,
            latencyMs = 10,
            success = true,
            timestamp = DateTimeOffset.UtcNow,
        });
        foreach (var batch in events.Chunk(200))
        {
            (await setup.Runtime.PostAsJsonAsync($"/v1/organizations/{setup.Org}/usage", new { batchId = Guid.NewGuid(), events = batch })).StatusCode.Should().Be(HttpStatusCode.Accepted);
        }
        JsonElement results = default;
        await Eventually.Async(async () => (results = await (await setup.Admin.GetAsync($"{setup.Deployment}/experiment/results")).ReadJsonAsync())
            .GetProperty("candidateServedByFallback").GetInt64() == 400, TimeSpan.FromSeconds(15), "the fallback-served requests are counted");

        results.GetProperty("candidateMetrics").GetProperty("requests").GetInt64().Should().Be(0, "requests the fallback served are never mixed into their arm");
        results.GetProperty("analysis").GetProperty("sampleRatio").GetProperty("mismatch").GetBoolean().Should().BeTrue();
        var refused = await (await setup.Admin.PostAsync($"{setup.Deployment}/experiment/promote", null)).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        refused.GetProperty("sampleRatioMismatch").GetString().Should().Be("true");
    }

    [Fact]
    public async Task Another_organization_cannot_read_the_results_and_an_agent_without_an_experiment_says_so()
    {
        var setup = await ExperimentAsync();
        var (other, otherKey) = await fixture.CreateOrganizationAsync("business");
        using var otherAdmin = fixture.Client(otherKey);

        var foreign = await otherAdmin.GetAsync($"/v1/organizations/{other}/agents/{setup.Agent}/deployment/experiment/results");
        // Usage another organization reports under this experiment's id is its own: it never reaches these results.
        var otherKey2 = (await (await otherAdmin.PostAsJsonAsync($"/v1/organizations/{other}/api-keys", new { name = "runtime", scope = "runtime" }))
            .ReadJsonAsync(HttpStatusCode.Created)).GetProperty("key").GetString();
        using var otherRuntime = fixture.Client(otherKey2);
        var planted = await otherRuntime.PostAsJsonAsync($"/v1/organizations/{other}/usage", new
        {
            batchId = Guid.NewGuid(),
            events = Enumerable.Range(0, 50).Select(_ => new
            {
                baseModel = Candidate,
                experimentId = setup.ExperimentId,
                arm = "candidate",
                fellBack = false,
                inputTokens = 1,
                outputTokens = 1,
                latencyMs = 10,
                success = false,
                timestamp = DateTimeOffset.UtcNow,
            }),
        });
        await Eventually.Async(async () => (await (await otherAdmin.GetAsync($"/v1/organizations/{other}/usage/metrics?baseModel={Uri.EscapeDataString(Candidate)}")).ReadJsonAsync())
            .GetProperty("total").GetProperty("requests").GetInt64() == 50, TimeSpan.FromSeconds(15), "the other organization's usage is counted, as its own");
        var mine = await (await setup.Admin.GetAsync($"{setup.Deployment}/experiment/results")).ReadJsonAsync();
        await (await setup.Admin.PostAsync($"{setup.Deployment}/experiment/stop", null)).ReadJsonAsync();
        var none = await (await setup.Admin.GetAsync($"{setup.Deployment}/experiment/results")).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        var unknown = await (await setup.Admin.GetAsync($"{setup.Deployment}/experiment/results?experimentId={Guid.NewGuid()}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);

        foreign.StatusCode.Should().Be(HttpStatusCode.NotFound);
        planted.StatusCode.Should().Be(HttpStatusCode.Accepted);
        mine.GetProperty("candidateMetrics").GetProperty("requests").GetInt64().Should().Be(0, "another organization's usage never counts in this experiment");
        none.GetProperty("field").GetString().Should().Be("experimentId");
        unknown.GetProperty("status").GetInt32().Should().Be(404);
    }
}
