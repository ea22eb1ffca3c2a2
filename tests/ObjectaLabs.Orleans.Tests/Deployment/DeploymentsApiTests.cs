using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ObjectaLabs.Orleans.Tests.Infrastructure;
using ObjectaLabs.Orleans.Tests.Training;

namespace ObjectaLabs.Orleans.Tests.Deployment;

/// <summary>Agents' deployments and experiments through the real API, on models trained on the sandbox.</summary>
[Collection(ApiCollection.Name)]
public sealed class DeploymentsApiTests(ApiFixture fixture)
{
    private const string Base = "sandbox/sandbox-small";

    private static async Task<(Guid Agent, Guid Model)> AgentAndModelAsync(HttpClient client, Guid org, string? agentBaseModel = Base)
    {
        var agent = (await (await client.PostAsJsonAsync($"/v1/organizations/{org}/agents", new { name = "Support bot", defaultBaseModel = agentBaseModel }))
            .ReadJsonAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();
        var jobId = Guid.NewGuid();
        await (await client.PostAsJsonAsync($"/v1/organizations/{org}/training-jobs", new { id = jobId, name = "Support", baseModel = Base })).ReadJsonAsync(HttpStatusCode.Created);
        var model = (await TrainingJobsApiTests.FinishedAsync(client, org, jobId)).GetProperty("modelId").GetGuid();
        return (agent, model);
    }

    [Fact]
    public async Task An_agent_is_deployed_runs_an_experiment_and_promotes_the_candidate_with_every_refusal_naming_its_field()
    {
        var (org, client) = await TrainingJobsApiTests.OrganizationWithValidatedExamplesAsync(fixture, "business", 10);
        var (agent, model) = await AgentAndModelAsync(client, org);
        var url = $"/v1/organizations/{org}/agents/{agent}/deployment";

        var none = await client.GetAsync(url);
        var deployed = await (await client.PutAsJsonAsync(url, new { model = new { baseModel = Base } })).ReadJsonAsync();
        var both = await (await client.PutAsJsonAsync(url, new { model = new { baseModel = Base, modelId = model } })).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var unknownBase = await (await client.PutAsJsonAsync(url, new { model = new { baseModel = "openai/gpt-9" } })).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var shutDown = await (await client.PutAsJsonAsync(url, new { model = new { baseModel = "openai/gpt-3.5-turbo-0125" } })).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var badShare = await (await client.PostAsJsonAsync($"{url}/experiment", new { candidate = new { modelId = model }, candidateShare = 1.0 })).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var sameArms = await (await client.PostAsJsonAsync($"{url}/experiment", new { candidate = new { baseModel = Base }, candidateShare = 0.5 })).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var started = await (await client.PostAsJsonAsync($"{url}/experiment", new { candidate = new { modelId = model }, candidateShare = 0.2, subject = "endUser" })).ReadJsonAsync();
        var second = await (await client.PostAsJsonAsync($"{url}/experiment", new { candidate = new { modelId = model }, candidateShare = 0.2 })).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        var redeploy = await (await client.PutAsJsonAsync(url, new { model = new { baseModel = Base } })).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        var split = await (await client.PutAsJsonAsync($"{url}/experiment/split", new { candidateShare = 0.5 })).ReadJsonAsync();
        var versionBefore = (await (await client.GetAsync($"/v1/organizations/{org}/deployments")).ReadJsonAsync()).GetProperty("version").GetInt64();
        var promoted = await (await client.PostAsync($"{url}/experiment/promote", null)).ReadJsonAsync();
        var versionAfter = (await (await client.GetAsync($"/v1/organizations/{org}/deployments")).ReadJsonAsync()).GetProperty("version").GetInt64();
        var stopNone = await (await client.PostAsync($"{url}/experiment/stop", null)).ShouldBeProblemAsync(HttpStatusCode.Conflict);

        none.StatusCode.Should().Be(HttpStatusCode.NotFound);
        deployed.GetProperty("model").GetProperty("baseModel").GetString().Should().Be(Base);
        deployed.GetProperty("fallback").GetProperty("baseModel").GetString().Should().Be(Base, "the fallback is the agent's base model unless set");
        both.GetProperty("field").GetString().Should().Be("model");
        unknownBase.GetProperty("field").GetString().Should().Be("model");
        shutDown.GetProperty("detail").GetString().Should().Contain("shut down");
        badShare.GetProperty("field").GetString().Should().Be("candidateShare");
        sameArms.GetProperty("field").GetString().Should().Be("candidate");
        var experiment = started.GetProperty("experiment");
        experiment.GetProperty("control").GetProperty("baseModel").GetString().Should().Be(Base, "the control is the agent's current model");
        experiment.GetProperty("candidate").GetProperty("modelId").GetGuid().Should().Be(model);
        experiment.GetProperty("subject").GetString().Should().Be("endUser");
        experiment.GetProperty("margin").GetDouble().Should().Be(0.02);
        experiment.GetProperty("minimumSample").GetInt32().Should().Be(1000);
        second.GetProperty("field").GetString().Should().Be("experiment");
        redeploy.GetProperty("field").GetString().Should().Be("experiment");
        split.GetProperty("experiment").GetProperty("candidateShare").GetDouble().Should().Be(0.5);
        promoted.GetProperty("model").GetProperty("modelId").GetGuid().Should().Be(model, "the candidate became the agent's model");
        promoted.GetProperty("experiment").ValueKind.Should().Be(JsonValueKind.Null);
        promoted.GetProperty("pastExperiments")[0].GetProperty("status").GetString().Should().Be("promoted");
        versionAfter.Should().Be(versionBefore + 1, "every change moves the version");
        stopNone.GetProperty("field").GetString().Should().Be("experiment");
    }

    [Fact]
    public async Task Experiments_need_a_plan_with_ab_testing_models_that_serve_and_another_organizations_agent_is_not_found()
    {
        var (pro, proClient) = await TrainingJobsApiTests.OrganizationWithValidatedExamplesAsync(fixture, "professional", 10);
        var (proAgent, proModel) = await AgentAndModelAsync(proClient, pro);
        var (biz, bizClient) = await TrainingJobsApiTests.OrganizationWithValidatedExamplesAsync(fixture, "business", 10);
        var (bizAgent, bizModel) = await AgentAndModelAsync(bizClient, biz, agentBaseModel: null);
        var proUrl = $"/v1/organizations/{pro}/agents/{proAgent}/deployment";
        var bizUrl = $"/v1/organizations/{biz}/agents/{bizAgent}/deployment";
        // The version also moves with keys, agents and the default model (resolution's snapshot): read it once they are in.
        var versionBefore = (await (await bizClient.GetAsync($"/v1/organizations/{biz}/deployments")).ReadJsonAsync()).GetProperty("version").GetInt64();

        var notInPlan = await (await proClient.PostAsJsonAsync($"{proUrl}/experiment", new { candidate = new { modelId = proModel }, candidateShare = 0.1 })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        var noFallback = await (await bizClient.PutAsJsonAsync(bizUrl, new { model = new { modelId = bizModel } })).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var foreignModel = await (await bizClient.PutAsJsonAsync(bizUrl, new { model = new { modelId = proModel }, fallback = new { baseModel = Base } })).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await bizClient.PatchAsJsonAsync($"/v1/organizations/{biz}/models/{bizModel}", new { status = "deprecated" })).ReadJsonAsync();
        var deprecated = await (await bizClient.PutAsJsonAsync(bizUrl, new { model = new { modelId = bizModel }, fallback = new { baseModel = Base } })).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        var foreignAgent = await bizClient.GetAsync($"/v1/organizations/{biz}/agents/{proAgent}/deployment");
        var foreignDeploy = await bizClient.PutAsJsonAsync($"/v1/organizations/{biz}/agents/{proAgent}/deployment", new { model = new { baseModel = Base } });
        var listed = await (await bizClient.GetAsync($"/v1/organizations/{biz}/deployments")).ReadJsonAsync();

        notInPlan.GetProperty("limit").GetString().Should().Be("abTesting");
        noFallback.GetProperty("field").GetString().Should().Be("fallback");
        foreignModel.GetProperty("status").GetInt32().Should().Be(404);
        deprecated.GetProperty("modelStatus").GetString().Should().Be("deprecated");
        foreignAgent.StatusCode.Should().Be(HttpStatusCode.NotFound);
        foreignDeploy.StatusCode.Should().Be(HttpStatusCode.NotFound);
        listed.GetProperty("agents").GetArrayLength().Should().Be(0, "every refusal changed nothing");
        listed.GetProperty("version").GetInt64().Should().Be(versionBefore);
    }

    public static TheoryData<string, string> BadExperiments => new()
    {
        { """{"candidate":{"baseModel":"sandbox/sandbox-large"},"candidateShare":0}""", "candidateShare" },
        { """{"candidate":{"baseModel":"sandbox/sandbox-large"},"candidateShare":-0.1}""", "candidateShare" },
        { """{"candidate":{"baseModel":"sandbox/sandbox-large"},"candidateShare":1}""", "candidateShare" },
        { """{"candidate":{"baseModel":"sandbox/sandbox-large"},"candidateShare":1e308}""", "candidateShare" },
        { """{"candidate":{"baseModel":"sandbox/sandbox-large"},"candidateShare":"0.5"}""", "candidateShare" },
        { """{"candidate":{"baseModel":"sandbox/sandbox-large"}}""", "candidateShare" },
        { """{"candidate":{"baseModel":"sandbox/sandbox-large"},"candidateShare":0.5,"margin":-0.01}""", "margin" },
        { """{"candidate":{"baseModel":"sandbox/sandbox-large"},"candidateShare":0.5,"margin":1}""", "margin" },
        { """{"candidate":{"baseModel":"sandbox/sandbox-large"},"candidateShare":0.5,"minimumSample":9}""", "minimumSample" },
        { """{"candidate":{"baseModel":"sandbox/sandbox-large"},"candidateShare":0.5,"minimumSample":10000001}""", "minimumSample" },
        { """{"candidate":{"baseModel":"sandbox/sandbox-large"},"candidateShare":0.5,"minimumSample":1.5}""", "minimumSample" },
        { """{"candidate":{"baseModel":"sandbox/sandbox-large"},"candidateShare":0.5,"subject":"robot"}""", "subject" },
        { """{"candidate":{},"candidateShare":0.5}""", "candidate" },
        { """{"candidate":{"modelId":"not-a-uuid"},"candidateShare":0.5}""", "modelId" },
        { """{"candidate":{"baseModel":"x"}, "candidateShare":0.5}""".Replace("x", new string('x', 5000), StringComparison.Ordinal), "candidate" },
        { """{"candidateShare":0.5}""", "candidate" },
    };

    [Theory]
    [MemberData(nameof(BadExperiments))]
    public async Task A_bad_experiment_is_refused_naming_the_field_and_changes_nothing(string body, string field)
    {
        var (org, key) = await fixture.CreateOrganizationAsync("business");
        using var client = fixture.Client(key);
        var agent = (await (await client.PostAsJsonAsync($"/v1/organizations/{org}/agents", new { name = "Bot", defaultBaseModel = Base }))
            .ReadJsonAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();
        var url = $"/v1/organizations/{org}/agents/{agent}/deployment";
        await (await client.PutAsJsonAsync(url, new { model = new { baseModel = Base } })).ReadJsonAsync();

        var problem = await (await client.PostAsync($"{url}/experiment", new StringContent(body, System.Text.Encoding.UTF8, "application/json")))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var after = await (await client.GetAsync(url)).ReadJsonAsync();

        (problem.GetProperty("field").GetString() ?? "").Should().Contain(field, problem.ToString());
        problem.GetProperty("detail").GetString()!.Length.Should().BeLessThan(1000, "an oversized input is never echoed whole");
        after.GetProperty("experiment").ValueKind.Should().Be(JsonValueKind.Null, "a refusal changes nothing");
    }
}
