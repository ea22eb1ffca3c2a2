using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ObjectaLabs.Orleans.ProviderEmulators;
using ObjectaLabs.Orleans.Tests.Infrastructure;

namespace ObjectaLabs.Orleans.Tests.Training;

/// <summary>Jobs on OpenAI (through the official SDK) and Together, over real HTTP to their emulators.</summary>
public sealed class ProviderJobsTests(ProviderJobsFixture fixture) : IClassFixture<ProviderJobsFixture>
{
    private const string OpenAiModel = "openai/gpt-4o-mini-2024-07-18";
    private const string TogetherModel = "together/meta-llama/Meta-Llama-3.1-8B-Instruct-Reference";

    [Theory]
    [InlineData(OpenAiModel)]
    [InlineData(TogetherModel)]
    public async Task A_job_trains_at_the_provider_to_one_registered_model(string baseModel)
    {
        var (org, client) = await fixture.OrganizationWithValidatedExamplesAsync("business", 12);
        var jobId = Guid.NewGuid();

        await (await client.PostAsJsonAsync($"/v1/organizations/{org}/training-jobs", new { id = jobId, name = "Orders", baseModel, validationRatio = 0.2 }))
            .ReadJsonAsync(HttpStatusCode.Created);
        var job = await FinishedAsync(client, org, jobId);
        var models = await (await client.GetAsync($"/v1/organizations/{org}/models")).ReadJsonAsync();

        job.GetProperty("status").GetString().Should().Be("succeeded", job.ToString());
        job.GetProperty("providerJobId").GetString().Should().NotBeNullOrEmpty();
        job.GetProperty("trainedTokens").GetInt64().Should().BeGreaterThan(0);
        SubmissionsOf(job).Should().Be(1, "the provider saw the job once");
        models.EnumerateArray().Should().ContainSingle().Which.GetProperty("model").GetProperty("providerModelId").GetString().Should().Be(job.GetProperty("fineTunedModel").GetString());
    }

    [Fact]
    public async Task With_a_third_of_provider_calls_failing_transiently_every_job_finishes_once()
    {
        var (org, client) = await fixture.OrganizationWithValidatedExamplesAsync("enterprise", 12);
        // About 30 % of calls fail, of every transient kind: 429 with Retry-After, 500, a malformed body, a timeout.
        fixture.Emulators.OpenAi.Faults.Add(new FaultRule(FaultKinds.RateLimit, Rate: 0.1, RetryAfterSeconds: 1));
        fixture.Emulators.OpenAi.Faults.Add(new FaultRule(FaultKinds.ServerError, Rate: 0.1));
        fixture.Emulators.OpenAi.Faults.Add(new FaultRule(FaultKinds.Malformed, Rate: 0.05));
        fixture.Emulators.OpenAi.Faults.Add(new FaultRule(FaultKinds.Slow, Rate: 0.05, DelayMilliseconds: 3000));
        var jobs = Enumerable.Range(0, 5).Select(_ => Guid.NewGuid()).ToList();
        try
        {
            foreach (var jobId in jobs)
            {
                // A create may itself meet a fault: it is answered, and the same id is sent again until it is accepted.
                await Eventually.Async(async () => (await client.PostAsJsonAsync($"/v1/organizations/{org}/training-jobs",
                    new { id = jobId, name = $"Chaos {jobId:N}", baseModel = OpenAiModel })).StatusCode == HttpStatusCode.Created, TimeSpan.FromSeconds(30));
            }
            var finished = new List<JsonElement>();
            foreach (var jobId in jobs)
            {
                finished.Add(await FinishedAsync(client, org, jobId, TimeSpan.FromSeconds(120)));
            }

            finished.Should().OnlyContain(j => j.GetProperty("status").GetString() == "succeeded", "transient faults never fail a job");
            finished.Select(SubmissionsOf).Should().OnlyContain(n => n == 1, "each job reached the provider exactly once");
            (fixture.Emulators.OpenAi.Faults.Injected(FaultKinds.RateLimit) + fixture.Emulators.OpenAi.Faults.Injected(FaultKinds.ServerError))
                .Should().BeGreaterThan(0, "the run did meet faults");
        }
        finally
        {
            fixture.Emulators.OpenAi.Faults.Clear();
        }
    }

    [Fact]
    public async Task A_job_the_provider_fails_is_failed_with_the_providers_message()
    {
        var (org, client) = await fixture.OrganizationWithValidatedExamplesAsync("business", 10);
        var jobId = Guid.NewGuid();
        fixture.Emulators.OpenAi.Faults.Add(new FaultRule(FaultKinds.FailJob, Count: 1, Message: "Training file line 3: invalid JSON.", Code: "invalid_training_file"));

        await (await client.PostAsJsonAsync($"/v1/organizations/{org}/training-jobs", new { id = jobId, name = "Bad", baseModel = OpenAiModel })).ReadJsonAsync(HttpStatusCode.Created);
        var job = await FinishedAsync(client, org, jobId);

        job.GetProperty("status").GetString().Should().Be("failed");
        job.GetProperty("error").GetProperty("message").GetString().Should().Contain("Training file line 3: invalid JSON.");
    }

    [Fact]
    public async Task Estimated_and_actual_costs_match_hand_computed_figures_for_a_small_dataset()
    {
        // Ten examples of one word each way, every word one o200k token. By OpenAI's per-message accounting an example is
        // 3 (reply priming) + 2 × (3 per message + 1 role + 1 content) = 13 tokens; 10 examples = 130 tokens per epoch.
        string[] words = ["hello", "world", "apple", "house", "water", "green", "money", "music", "river", "table"];
        var (org, client) = await fixture.OrganizationWithValidatedExamplesAsync("business", words.Length, i => (words[i], "yes"));

        var auto = (await (await client.PostAsJsonAsync($"/v1/organizations/{org}/training-jobs/estimate", new { baseModel = OpenAiModel, validationRatio = 0 })).ReadJsonAsync()).GetProperty("estimate");
        var jobId = Guid.NewGuid();
        var created = await (await client.PostAsJsonAsync($"/v1/organizations/{org}/training-jobs",
            new { id = jobId, name = "Costed", baseModel = OpenAiModel, validationRatio = 0, hyperparameters = new { epochs = 2 } })).ReadJsonAsync(HttpStatusCode.Created);
        var job = await FinishedAsync(client, org, jobId);

        // auto: 3 × 10 < 100, so ⌊100 ÷ 10⌋ = 10 epochs; 1,300 tokens × $3.00 / 1M = $0.0039.
        auto.GetProperty("trainingTokensPerEpoch").GetInt64().Should().Be(130);
        auto.GetProperty("epochs").GetInt32().Should().Be(10);
        auto.GetProperty("billableTrainingTokens").GetInt64().Should().Be(1_300);
        auto.GetProperty("totalCost").GetProperty("usd").GetDecimal().Should().Be(0.0039m);
        // 2 epochs: 260 tokens × $3.00 / 1M = $0.00078.
        created.GetProperty("estimatedTrainingTokens").GetInt64().Should().Be(260);
        created.GetProperty("estimatedCost").GetProperty("usd").GetDecimal().Should().Be(0.00078m);
        // Actual: the tokens the provider reports it trained, at the same price.
        var reported = fixture.Emulators.OpenAi.Jobs.Single(j => j.Metadata?.Values.Contains(jobId.ToString("N")) == true).TrainedTokens!.Value;
        job.GetProperty("trainedTokens").GetInt64().Should().Be(reported);
        job.GetProperty("actualCost").GetProperty("usd").GetDecimal().Should().Be(reported * 3.00m / 1_000_000m);
    }

    [Fact]
    public async Task Togethers_own_quote_is_given_on_request_and_the_job_reuses_the_file_it_uploaded()
    {
        var (org, client) = await fixture.OrganizationWithValidatedExamplesAsync("business", 10, i => ($"Quote me {i}", $"Quoted {i}"));
        var request = new { baseModel = TogetherModel, validationRatio = 0, seed = 5, hyperparameters = new { epochs = 2 } };

        var ours = (await (await client.PostAsJsonAsync($"/v1/organizations/{org}/training-jobs/estimate", request)).ReadJsonAsync()).GetProperty("estimate");
        var filesBefore = fixture.Emulators.Together.Files.Count;
        var quoted = (await (await client.PostAsJsonAsync($"/v1/organizations/{org}/training-jobs/estimate", new
        {
            request.baseModel,
            request.validationRatio,
            request.seed,
            request.hyperparameters,
            providerQuote = true,
        })).ReadJsonAsync()).GetProperty("estimate");
        var uploaded = fixture.Emulators.Together.Files.Skip(filesBefore).Should().ContainSingle("the quote uploads the would-be training file once").Subject;
        var jobId = Guid.NewGuid();
        await (await client.PostAsJsonAsync($"/v1/organizations/{org}/training-jobs",
            new { id = jobId, name = "Quoted", request.baseModel, request.validationRatio, request.seed, request.hyperparameters })).ReadJsonAsync(HttpStatusCode.Created);
        var job = await FinishedAsync(client, org, jobId);

        ours.GetProperty("providerQuote").ValueKind.Should().Be(JsonValueKind.Null, "no quote unless asked: it sends the data to the provider");
        var quote = quoted.GetProperty("providerQuote");
        quote.GetProperty("provider").GetString().Should().Be("together");
        // The emulator prices (bytes ÷ 4) tokens × 2 epochs at $0.48 per million.
        var tokens = uploaded.Content.Length / 4L * 2;
        quote.GetProperty("trainTokens").GetInt64().Should().Be(tokens);
        quote.GetProperty("totalUsd").GetDecimal().Should().Be(Math.Round(tokens * 0.48m / 1_000_000m, 6));
        job.GetProperty("status").GetString().Should().Be("succeeded");
        job.GetProperty("trainingFileId").GetString().Should().Be(uploaded.Id, "the job finds the quoted file by its SHA-256 and uploads nothing again");
        fixture.Emulators.Together.Files.Skip(filesBefore).Should().HaveCount(1);
    }

    [Fact]
    public async Task A_quote_asked_of_a_provider_that_gives_none_is_a_note_not_an_error()
    {
        var (org, client) = await fixture.OrganizationWithValidatedExamplesAsync("business", 10);

        var estimate = (await (await client.PostAsJsonAsync($"/v1/organizations/{org}/training-jobs/estimate",
            new { baseModel = OpenAiModel, providerQuote = true })).ReadJsonAsync()).GetProperty("estimate");

        estimate.GetProperty("providerQuote").ValueKind.Should().Be(JsonValueKind.Null);
        estimate.GetProperty("notes").EnumerateArray().Select(n => n.GetString()).Should().Contain(n => n!.StartsWith("openai gives no price estimate of its own", StringComparison.Ordinal));
    }

    private int SubmissionsOf(JsonElement job)
    {
        var reference = job.GetProperty("id").GetGuid().ToString("N");
        return job.GetProperty("provider").GetString() == "openai"
            ? fixture.Emulators.OpenAi.Jobs.Count(j => j.Metadata?.Values.Contains(reference) == true)
            : fixture.Emulators.Together.Jobs.Count(j => j.Suffix?.Contains(ObjectaLabs.Orleans.Providers.Together.TogetherJson.ReferenceToken(reference), StringComparison.Ordinal) == true);
    }

    private static async Task<JsonElement> FinishedAsync(HttpClient client, Guid org, Guid jobId, TimeSpan? within = null)
    {
        JsonElement job = default;
        await Eventually.Async(async () =>
        {
            using var response = await client.GetAsync($"/v1/organizations/{org}/training-jobs/{jobId}");
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return false;
            }
            job = await response.ReadJsonAsync();
            return job.GetProperty("status").GetString() is "failed" or "cancelled"
                || (job.GetProperty("status").GetString() == "succeeded" && job.GetProperty("modelId").ValueKind == JsonValueKind.String);
        }, within ?? TimeSpan.FromSeconds(60), $"job {jobId} should finish");
        return job;
    }
}
