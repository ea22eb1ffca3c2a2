using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ObjectaLabs.Orleans.Providers.Sandbox;
using ObjectaLabs.Orleans.Tests.Infrastructure;

namespace ObjectaLabs.Orleans.Tests.Training;

/// <summary>Training jobs through the real API, silo and PostgreSQL, on the sandbox provider.</summary>
[Collection(ApiCollection.Name)]
public sealed class TrainingJobsApiTests(ApiFixture fixture)
{
    private const string Sandbox = "sandbox/sandbox-small";

    [Fact]
    public async Task A_job_trains_on_the_sandbox_to_a_registered_model_and_a_retrain_is_the_next_version()
    {
        var (id, client) = await OrganizationWithValidatedExamplesAsync("business", 12);
        var jobId = Guid.NewGuid();
        var request = new { id = jobId, name = "Support Model", baseModel = Sandbox, validationRatio = 0.25, seed = 7 };

        var estimate = await (await client.PostAsJsonAsync($"/v1/organizations/{id}/training-jobs/estimate", new { baseModel = Sandbox, validationRatio = 0.25, seed = 7 })).ReadJsonAsync();
        var created = await (await client.PostAsJsonAsync($"/v1/organizations/{id}/training-jobs", request)).ReadJsonAsync(HttpStatusCode.Created);
        var again = await (await client.PostAsJsonAsync($"/v1/organizations/{id}/training-jobs", request)).ReadJsonAsync(HttpStatusCode.Created);
        var finished = await FinishedAsync(client, id, jobId);

        (estimate.GetProperty("trainingExamples").GetInt32() + estimate.GetProperty("validationExamples").GetInt32()).Should().Be(12);
        created.GetProperty("id").GetGuid().Should().Be(jobId);
        again.GetProperty("id").GetGuid().Should().Be(jobId, "a repeated create with the same id is the same job");
        finished.GetProperty("status").GetString().Should().Be("succeeded");
        finished.GetProperty("progress").GetDouble().Should().Be(1);
        finished.GetProperty("simulated").GetBoolean().Should().BeTrue();
        finished.GetProperty("dataset").GetProperty("trainingExamples").GetInt32().Should().Be(estimate.GetProperty("trainingExamples").GetInt32());
        finished.GetProperty("fineTunedModel").GetString().Should().StartWith("ft:sandbox-simulated:");
        var events = await (await client.GetAsync($"/v1/organizations/{id}/training-jobs/{jobId}/events")).ReadJsonAsync();
        events.GetProperty("events").GetArrayLength().Should().BeGreaterThan(0);
        events.GetProperty("events")[0].GetProperty("message").GetString().Should().StartWith("[simulated]");

        var retrain = Guid.NewGuid();
        await (await client.PostAsJsonAsync($"/v1/organizations/{id}/training-jobs", request with { id = retrain })).ReadJsonAsync(HttpStatusCode.Created);
        await FinishedAsync(client, id, retrain);
        var models = await (await client.GetAsync($"/v1/organizations/{id}/models")).ReadJsonAsync();
        models.EnumerateArray().Select(c => c.GetProperty("model")).Select(m => (m.GetProperty("name").GetString(), m.GetProperty("version").GetInt32(), m.GetProperty("jobId").GetGuid()))
            .Should().Equal(("Support Model", 1, jobId), ("Support Model", 2, retrain));
        var listed = await (await client.GetAsync($"/v1/organizations/{id}/training-jobs?status=succeeded")).ReadJsonAsync();
        listed.GetProperty("jobs").GetArrayLength().Should().Be(2);
    }

    [Fact]
    public async Task A_job_is_never_seen_succeeded_without_its_model()
    {
        var (id, client) = await OrganizationWithValidatedExamplesAsync("business", 12);
        var jobId = Guid.NewGuid();
        await (await client.PostAsJsonAsync($"/v1/organizations/{id}/training-jobs", new { id = jobId, name = "Watched Model", baseModel = Sandbox })).ReadJsonAsync(HttpStatusCode.Created);

        // As a script does: poll until succeeded, then take the model id from that same answer. Polled often, through
        // four admin keys (each has its own rate-limit bucket), to look into the moment the job ends.
        var readers = new List<HttpClient> { client };
        for (var k = 0; k < 3; k++)
        {
            var key = (await (await client.PostAsJsonAsync($"/v1/organizations/{id}/api-keys", new { name = $"watcher {k}", scope = "admin" })).ReadJsonAsync(HttpStatusCode.Created)).GetProperty("key").GetString();
            readers.Add(fixture.Client(key));
        }
        var reads = 0;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await Task.Delay(5);
            var job = await (await readers[reads % readers.Count].GetAsync($"/v1/organizations/{id}/training-jobs/{jobId}")).ReadJsonAsync();
            reads++;
            if (job.GetProperty("status").GetString() == "succeeded")
            {
                job.GetProperty("modelId").ValueKind.Should().Be(JsonValueKind.String, $"a succeeded job names its registered model (read {reads})");
                job.GetProperty("modelVersion").GetInt32().Should().Be(1);
                break;
            }
            DateTime.UtcNow.Should().BeBefore(deadline, "the sandbox job finishes in about a second");
        }
        reads.Should().BeGreaterThan(5, "the job was watched while it ran, not only after");
    }

    [Fact]
    public async Task Cancel_stops_a_job_in_flight_and_a_finished_job_cannot_be_cancelled()
    {
        var (id, client) = await OrganizationWithValidatedExamplesAsync("business", 10);
        var slow = Guid.NewGuid();
        await (await client.PostAsJsonAsync($"/v1/organizations/{id}/training-jobs",
            new { id = slow, name = "Slow", baseModel = Sandbox, suffix = SandboxProvider.SlowSwitch })).ReadJsonAsync(HttpStatusCode.Created);

        var cancelling = await (await client.PostAsync($"/v1/organizations/{id}/training-jobs/{slow}/cancel", null)).ReadJsonAsync();
        var finished = await FinishedAsync(client, id, slow);
        var again = await client.PostAsync($"/v1/organizations/{id}/training-jobs/{slow}/cancel", null);

        cancelling.GetProperty("cancelRequested").GetBoolean().Should().BeTrue();
        finished.GetProperty("status").GetString().Should().Be("cancelled");
        finished.GetProperty("modelId").ValueKind.Should().Be(JsonValueKind.Null);
        await again.ShouldBeProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_job_the_provider_fails_is_failed_with_the_providers_message()
    {
        var (id, client) = await OrganizationWithValidatedExamplesAsync("business", 10);
        var jobId = Guid.NewGuid();
        await (await client.PostAsJsonAsync($"/v1/organizations/{id}/training-jobs",
            new { id = jobId, name = "Doomed", baseModel = Sandbox, suffix = SandboxProvider.FailSwitch })).ReadJsonAsync(HttpStatusCode.Created);

        var finished = await FinishedAsync(client, id, jobId);

        finished.GetProperty("status").GetString().Should().Be("failed");
        finished.GetProperty("error").GetProperty("message").GetString().Should().Be(SandboxProvider.SimulatedFailureMessage);
    }

    [Fact]
    public async Task Refusals_name_the_rule_and_another_organizations_job_is_not_found()
    {
        var (few, fewClient) = await OrganizationWithValidatedExamplesAsync("business", 3);
        var (pro, proClient) = await OrganizationWithValidatedExamplesAsync("professional", 10);
        var (free, freeKey) = await fixture.CreateOrganizationAsync("free");
        using var freeClient = fixture.Client(freeKey);
        var jobId = Guid.NewGuid();
        await (await proClient.PostAsJsonAsync($"/v1/organizations/{pro}/training-jobs", new { id = jobId, name = "Mine", baseModel = Sandbox })).ReadJsonAsync(HttpStatusCode.Created);

        var tooFew = await (await fewClient.PostAsJsonAsync($"/v1/organizations/{few}/training-jobs", new { name = "x", baseModel = Sandbox })).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var notInPlan = await (await proClient.PostAsJsonAsync($"/v1/organizations/{pro}/training-jobs", new { name = "x", baseModel = "sandbox/sandbox-large" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        var overModelLimit = await (await proClient.PostAsJsonAsync($"/v1/organizations/{pro}/training-jobs", new { name = "y", baseModel = Sandbox })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        var freePlan = await (await freeClient.PostAsJsonAsync($"/v1/organizations/{free}/training-jobs", new { name = "x", baseModel = Sandbox })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        var unknownModel = await (await proClient.PostAsJsonAsync($"/v1/organizations/{pro}/training-jobs", new { name = "x", baseModel = "openai/gpt-9" })).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var shutDown = await (await proClient.PostAsJsonAsync($"/v1/organizations/{pro}/training-jobs", new { name = "x", baseModel = "openai/gpt-3.5-turbo-0125" })).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var notTunable = await (await proClient.PostAsJsonAsync($"/v1/organizations/{pro}/training-jobs/estimate", new { baseModel = "openai/o4-mini-2025-04-16" })).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var noAccount = await (await proClient.PostAsJsonAsync($"/v1/organizations/{pro}/training-jobs/estimate", new { baseModel = "openai/gpt-4o-mini-2024-07-18" })).ReadJsonAsync();
        var badEpochs = await (await proClient.PostAsJsonAsync($"/v1/organizations/{pro}/training-jobs/estimate", new { baseModel = Sandbox, hyperparameters = new { epochs = 0 } })).ShouldBeProblemAsync(HttpStatusCode.BadRequest);

        tooFew.GetProperty("field").GetString().Should().Be("examples");
        notInPlan.GetProperty("limit").GetString().Should().Be("allowedBaseModels");
        overModelLimit.GetProperty("limit").GetString().Should().Be("maxFineTunedModels");
        overModelLimit.GetProperty("allowed").GetInt64().Should().Be(1);
        freePlan.GetProperty("limit").GetString().Should().Be("fineTuning");
        unknownModel.GetProperty("field").GetString().Should().Be("baseModel");
        badEpochs.GetProperty("field").GetString().Should().Be("hyperparameters.epochs");
        shutDown.GetProperty("detail").GetString().Should().Contain("shut down");
        shutDown.GetProperty("rule").GetString().Should().Be("shutdownDate");
        shutDown.GetProperty("alternatives").GetString()!.Split(',').Should().BeEquivalentTo(
            ["openai/gpt-4o-mini-2024-07-18", "together/meta-llama/Meta-Llama-3.1-8B-Instruct-Reference", "together/Qwen/Qwen2.5-7B-Instruct", "sandbox/sandbox-small", "sandbox/sandbox-dedicated"],
            "the Professional plan's models that take new jobs today");
        notTunable.GetProperty("rule").GetString().Should().Be("fineTunable");
        notTunable.GetProperty("field").GetString().Should().Be("baseModel");
        noAccount.GetProperty("trainingExamples").GetInt32().Should().BeGreaterThan(0, "an estimate needs no provider account");
        await (await fewClient.GetAsync($"/v1/organizations/{few}/training-jobs/{jobId}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await fewClient.PostAsync($"/v1/organizations/{few}/training-jobs/{jobId}/cancel", null)).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        (await (await fewClient.GetAsync($"/v1/organizations/{few}/training-jobs")).ReadJsonAsync()).GetProperty("jobs").GetArrayLength().Should().Be(0);
    }

    [Fact]
    public async Task A_job_on_a_provider_without_an_account_is_refused_naming_the_provider_and_a_downgrade_counts_registered_models()
    {
        var (id, client) = await OrganizationWithValidatedExamplesAsync("business", 10);
        using var platform = fixture.PlatformClient();

        // This deployment has no OpenAI key and the organization set none.
        var refused = await (await client.PostAsJsonAsync($"/v1/organizations/{id}/training-jobs", new { name = "x", baseModel = "openai/gpt-4o-mini-2024-07-18" }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        foreach (var line in new[] { "One", "Two" })
        {
            var jobId = Guid.NewGuid();
            await (await client.PostAsJsonAsync($"/v1/organizations/{id}/training-jobs", new { id = jobId, name = line, baseModel = Sandbox })).ReadJsonAsync(HttpStatusCode.Created);
            await FinishedAsync(client, id, jobId);
        }
        var downgrade = await (await platform.PutAsJsonAsync($"/v1/organizations/{id}/plan", new { plan = "professional" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);

        refused.GetProperty("field").GetString().Should().Be("provider");
        refused.GetProperty("detail").GetString().Should().Contain("not configured");
        downgrade.GetProperty("limit").GetString().Should().Be("maxFineTunedModels");
        downgrade.GetProperty("current").GetInt64().Should().Be(2, "the registry's two models count against Professional's one");
    }

    private Task<(Guid Id, HttpClient Client)> OrganizationWithValidatedExamplesAsync(string plan, int count) => OrganizationWithValidatedExamplesAsync(fixture, plan, count);

    /// <summary>An organization on <paramref name="plan"/> with <paramref name="count"/> validated examples, and a client with its admin key.</summary>
    internal static async Task<(Guid Id, HttpClient Client)> OrganizationWithValidatedExamplesAsync(ApiFixture fixture, string plan, int count)
    {
        var (id, key) = await fixture.CreateOrganizationAsync(plan);
        var client = fixture.Client(key);
        var lines = string.Concat(Enumerable.Range(0, count).Select(i => JsonSerializer.Serialize(new
        {
            messages = new[] { new { role = "user", content = $"How do I reset password {i}?" }, new { role = "assistant", content = $"Open settings, step {i}." } },
        }) + "\n"));
        await (await client.PostAsync($"/v1/organizations/{id}/examples/uploads?baseModel={Sandbox}", new StringContent(lines, Encoding.UTF8, "application/jsonl"))).ReadJsonAsync();
        var ids = (await (await client.GetAsync($"/v1/organizations/{id}/examples?limit=200")).ReadJsonAsync()).GetProperty("items").EnumerateArray()
            .Select(e => e.GetProperty("id").GetGuid()).ToArray();
        await (await client.PostAsJsonAsync($"/v1/organizations/{id}/examples/validation", new { ids, qualityScore = 0.9 })).ReadJsonAsync();
        return (id, client);
    }

    internal static async Task<JsonElement> FinishedAsync(HttpClient client, Guid org, Guid jobId)
    {
        JsonElement job = default;
        await Eventually.Async(async () =>
        {
            job = await (await client.GetAsync($"/v1/organizations/{org}/training-jobs/{jobId}")).ReadJsonAsync();
            return job.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled"
                && (job.GetProperty("status").GetString() != "succeeded" || job.GetProperty("modelId").ValueKind == JsonValueKind.String);
        }, TimeSpan.FromSeconds(60), $"job {jobId} should finish on the sandbox");
        return job;
    }
}
