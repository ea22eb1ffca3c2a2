using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ObjectaLabs.Orleans.Api.Resolution;
using ObjectaLabs.Orleans.Deployment;
using ObjectaLabs.Orleans.Tests.Infrastructure;
using ObjectaLabs.Orleans.Tests.Training;

namespace ObjectaLabs.Orleans.Tests.Resolution;

/// <summary>Resolution through two API hosts (each its own Orleans client and snapshot), on a model trained on the sandbox.</summary>
[Collection(ApiCollection.Name)]
public sealed class ResolveApiTests(ApiFixture fixture)
{
    private const string Base = "sandbox/sandbox-small";

    [Fact]
    public async Task Sticky_arms_agree_across_two_api_hosts_changes_reach_both_within_a_second_and_an_archived_candidate_falls_back()
    {
        var (org, admin) = await TrainingJobsApiTests.OrganizationWithValidatedExamplesAsync(fixture, "business", 10);
        var agent = (await (await admin.PostAsJsonAsync($"/v1/organizations/{org}/agents", new { name = "Bot", defaultBaseModel = Base }))
            .ReadJsonAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();
        var jobId = Guid.NewGuid();
        await (await admin.PostAsJsonAsync($"/v1/organizations/{org}/training-jobs", new { id = jobId, name = "Support", baseModel = Base })).ReadJsonAsync(HttpStatusCode.Created);
        var model = (await TrainingJobsApiTests.FinishedAsync(admin, org, jobId)).GetProperty("modelId").GetGuid();
        var key = (await (await admin.PostAsJsonAsync($"/v1/organizations/{org}/api-keys", new { name = "runtime", scope = "runtime" })).ReadJsonAsync(HttpStatusCode.Created))
            .GetProperty("key").GetString();
        var second = await fixture.StartApiAsync(new Dictionary<string, string?>());
        using var one = fixture.Client(key);
        using var two = fixture.Client(key, second);
        var deployment = $"/v1/organizations/{org}/agents/{agent}/deployment";
        string Resolve(string subject) => $"/v1/organizations/{org}/agents/{agent}/resolve?subject={Uri.EscapeDataString(subject)}";

        var undeployed = await one.GetAsync(Resolve("c-1"));
        await (await admin.PutAsJsonAsync(deployment, new { model = new { baseModel = Base } })).ReadJsonAsync();
        var plain = await (await one.GetAsync(Resolve("c-1"))).ReadJsonAsync();
        await (await two.GetAsync(Resolve("c-1"))).ReadJsonAsync();
        // Both hosts now hold the organization; the experiment must reach both by push, not by a fresh read.
        var experiment = (await (await admin.PostAsJsonAsync($"{deployment}/experiment", new { candidate = new { modelId = model }, candidateShare = 0.3 })).ReadJsonAsync())
            .GetProperty("experiment").GetProperty("id").GetGuid();
        var started = Stopwatch.StartNew();
        await Eventually.Async(async () => (await (await two.GetAsync(Resolve("c-1"))).ReadJsonAsync()).GetProperty("experimentId").ValueKind == JsonValueKind.String,
            TimeSpan.FromSeconds(5), "an experiment reaches the other API host by push");
        var propagation = started.Elapsed;
        (await (await one.GetAsync(Resolve("c-1"))).ReadJsonAsync()).GetProperty("experimentId").GetGuid().Should().Be(experiment, "the host that made the change answers it at once");

        var subjects = Enumerable.Range(0, 400).Select(i => $"conversation-{i}").ToList();
        var armsOne = new List<string>();
        var armsTwo = new List<string>();
        foreach (var subject in subjects)
        {
            armsOne.Add((await (await one.GetAsync(Resolve(subject))).ReadJsonAsync()).GetProperty("arm").GetString()!);
            armsTwo.Add((await (await two.GetAsync(Resolve(subject))).ReadJsonAsync()).GetProperty("arm").GetString()!);
        }
        var candidate = await (await one.GetAsync(Resolve(subjects[armsOne.IndexOf("candidate")]))).ReadJsonAsync();
        var noSubject = await (await one.GetAsync($"/v1/organizations/{org}/agents/{agent}/resolve")).ShouldBeProblemAsync(HttpStatusCode.BadRequest);

        // Deprecated still serves: the other host gets the new version and still answers the candidate.
        var versionBefore = candidate.GetProperty("snapshotVersion").GetInt64();
        await (await admin.PatchAsJsonAsync($"/v1/organizations/{org}/models/{model}", new { status = "deprecated" })).ReadJsonAsync();
        JsonElement deprecated = default;
        await Eventually.Async(async () => (deprecated = await (await two.GetAsync(Resolve(subjects[armsOne.IndexOf("candidate")]))).ReadJsonAsync()).GetProperty("snapshotVersion").GetInt64() > versionBefore,
            TimeSpan.FromSeconds(5), "deprecating the candidate reaches the other API host by push");
        await (await admin.PatchAsJsonAsync($"/v1/organizations/{org}/models/{model}", new { status = "archived" })).ReadJsonAsync();
        JsonElement fellBack = default;
        var archivedAt = Stopwatch.StartNew();
        await Eventually.Async(async () => (fellBack = await (await two.GetAsync(Resolve(subjects[armsOne.IndexOf("candidate")]))).ReadJsonAsync()).GetProperty("fellBack").GetBoolean(),
            TimeSpan.FromSeconds(5), "archiving the candidate reaches the other API host by push");
        var archivePropagation = archivedAt.Elapsed;
        await (await admin.PatchAsJsonAsync($"/v1/organizations/{org}/models/{model}", new { status = "deleted" })).ReadJsonAsync();
        JsonElement deleted = default;
        await Eventually.Async(async () => (deleted = await (await two.GetAsync(Resolve(subjects[armsOne.IndexOf("candidate")]))).ReadJsonAsync()).GetProperty("fallbackReason").GetString() == "model deleted",
            TimeSpan.FromSeconds(5), "deleting the candidate reaches the other API host by push");
        var otherOrg = await fixture.CreateOrganizationAsync();
        using var otherAdmin = fixture.Client(otherOrg.AdminKey);
        var foreign = await otherAdmin.GetAsync($"/v1/organizations/{otherOrg.Id}/agents/{agent}/resolve?subject=x");

        var undeployedAnswer = await undeployed.ReadJsonAsync();
        undeployedAnswer.GetProperty("source").GetString().Should().Be("agentBaseModel", "an agent with no deployment resolves to its base model");
        undeployedAnswer.GetProperty("providerModel").GetString().Should().Be("sandbox-small");
        plain.GetProperty("source").GetString().Should().Be("deployment");
        plain.GetProperty("provider").GetString().Should().Be("sandbox");
        plain.GetProperty("providerModel").GetString().Should().Be("sandbox-small");
        plain.GetProperty("arm").ValueKind.Should().Be(JsonValueKind.Null);
        // Measured from the change's answer to the other host's first answer that has it (that host's request time included).
        propagation.Should().BeLessThan(TimeSpan.FromSeconds(1), "a deployment change reaches every API process within one second");
        archivePropagation.Should().BeLessThan(TimeSpan.FromSeconds(1), "a model status change reaches every API process within one second");
        armsTwo.Should().Equal(armsOne, "a subject gets the same arm from every API host");
        armsOne.Should().Equal(subjects.Select(s => StickyAssignment.Assign(experiment, s, 0.3) == ExperimentArm.Candidate ? "candidate" : "control"),
            "the arm is the published pure function of experiment id and subject");
        candidate.GetProperty("modelId").GetGuid().Should().Be(model);
        candidate.GetProperty("provider").GetString().Should().Be("sandbox");
        noSubject.GetProperty("field").GetString().Should().Be("subject");
        fellBack.GetProperty("arm").GetString().Should().Be("candidate");
        fellBack.GetProperty("providerModel").GetString().Should().Be("sandbox-small", "the fallback is the agent's base model");
        (deprecated.GetProperty("fellBack").GetBoolean(), deprecated.GetProperty("modelId").GetGuid()).Should().Be((false, model), "a deprecated model still serves");
        fellBack.GetProperty("fallbackReason").GetString().Should().Be("model archived");
        (deleted.GetProperty("fellBack").GetBoolean(), deleted.GetProperty("providerModel").GetString()).Should().Be((true, "sandbox-small"));
        foreign.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_model_served_only_on_a_dedicated_endpoint_gets_traffic_only_while_its_endpoint_is_ready()
    {
        const string dedicatedBase = "sandbox/sandbox-dedicated";
        var (org, admin) = await TrainingJobsApiTests.OrganizationWithValidatedExamplesAsync(fixture, "business", 10);
        var agent = (await (await admin.PostAsJsonAsync($"/v1/organizations/{org}/agents", new { name = "Bot", defaultBaseModel = Base }))
            .ReadJsonAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();
        var dedicatedJob = Guid.NewGuid();
        await (await admin.PostAsJsonAsync($"/v1/organizations/{org}/training-jobs", new { id = dedicatedJob, name = "Dedicated", baseModel = dedicatedBase })).ReadJsonAsync(HttpStatusCode.Created);
        var model = (await TrainingJobsApiTests.FinishedAsync(admin, org, dedicatedJob)).GetProperty("modelId").GetGuid();
        var serverlessJob = Guid.NewGuid();
        await (await admin.PostAsJsonAsync($"/v1/organizations/{org}/training-jobs", new { id = serverlessJob, name = "Serverless", baseModel = Base })).ReadJsonAsync(HttpStatusCode.Created);
        var serverless = (await TrainingJobsApiTests.FinishedAsync(admin, org, serverlessJob)).GetProperty("modelId").GetGuid();
        var serving = $"/v1/organizations/{org}/models/{model}/serving";
        var resolve = $"/v1/organizations/{org}/agents/{agent}/resolve?subject=c-1";

        var registered = await (await admin.GetAsync($"/v1/organizations/{org}/models/{model}")).ReadJsonAsync();
        await (await admin.PutAsJsonAsync($"/v1/organizations/{org}/agents/{agent}/deployment", new { model = new { modelId = model } })).ReadJsonAsync();
        var noEndpoint = await (await admin.GetAsync(resolve)).ReadJsonAsync();
        var missingEndpoint = await (await admin.PutAsJsonAsync(serving, new { state = "ready" })).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var unknownState = await (await admin.PutAsJsonAsync(serving, new { state = "warm", endpoint = "e" })).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var longEndpoint = await (await admin.PutAsJsonAsync(serving, new { state = "ready", endpoint = new string('e', 201) })).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var controlEndpoint = await (await admin.PutAsJsonAsync(serving, new { state = "ready", endpoint = "ep\u0001x" })).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var numericState = await (await admin.PutAsJsonAsync(serving, new { state = 0, endpoint = "e" })).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var noState = await (await admin.PutAsJsonAsync(serving, new { endpoint = "e" })).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var perToken = await (await admin.PutAsJsonAsync($"/v1/organizations/{org}/models/{serverless}/serving", new { state = "ready", endpoint = "e" }))
            .ShouldBeProblemAsync(HttpStatusCode.Conflict);
        var afterRefusals = await (await admin.GetAsync($"/v1/organizations/{org}/models/{model}")).ReadJsonAsync();
        var starting = await (await admin.PutAsJsonAsync(serving, new { state = "endpointStarting", endpoint = "acme/support-ep" })).ReadJsonAsync();
        var whileStarting = await (await admin.GetAsync(resolve)).ReadJsonAsync();
        var ready = await (await admin.PutAsJsonAsync(serving, new { state = "ready", endpoint = "acme/support-ep" })).ReadJsonAsync();
        var whenReady = await (await admin.GetAsync(resolve)).ReadJsonAsync();
        var other = await fixture.CreateOrganizationAsync();
        using var otherAdmin = fixture.Client(other.AdminKey);
        var foreign = await otherAdmin.PutAsJsonAsync($"/v1/organizations/{other.Id}/models/{model}/serving", new { state = "noEndpoint" });

        registered.GetProperty("model").GetProperty("serving").GetProperty("state").GetString().Should().Be("noEndpoint");
        registered.GetProperty("model").GetProperty("serving").GetProperty("dedicated").GetBoolean().Should().BeTrue();
        registered.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()).Should().Contain(w => w!.Contains("dedicated endpoint"));
        noEndpoint.GetProperty("fellBack").GetBoolean().Should().BeTrue("a model with no endpoint running cannot answer");
        noEndpoint.GetProperty("providerModel").GetString().Should().Be("sandbox-small", "the fallback is the agent's base model");
        noEndpoint.GetProperty("fallbackReason").GetString().Should().Contain("no dedicated endpoint");
        missingEndpoint.GetProperty("field").GetString().Should().Be("endpoint");
        unknownState.GetProperty("field").GetString().Should().Be("$.state");
        longEndpoint.GetProperty("field").GetString().Should().Be("endpoint");
        controlEndpoint.GetProperty("field").GetString().Should().Be("endpoint");
        numericState.GetProperty("field").GetString().Should().Be("$.state");
        noState.GetProperty("field").GetString().Should().Be("state");
        perToken.GetProperty("field").GetString().Should().Be("state");
        afterRefusals.GetProperty("model").GetProperty("serving").GetProperty("state").GetString().Should().Be("noEndpoint", "a refusal changes nothing");
        starting.GetProperty("model").GetProperty("serving").GetProperty("endpoint").GetString().Should().Be("acme/support-ep");
        whileStarting.GetProperty("fellBack").GetBoolean().Should().BeTrue();
        whileStarting.GetProperty("fallbackReason").GetString().Should().Contain("starting");
        ready.GetProperty("warnings").EnumerateArray().Should().BeEmpty();
        whenReady.GetProperty("fellBack").GetBoolean().Should().BeFalse();
        whenReady.GetProperty("modelId").GetGuid().Should().Be(model);
        foreign.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task An_agent_with_no_deployment_resolves_to_the_organizations_default_model_else_its_base_model_on_every_api_host()
    {
        var (org, admin) = await TrainingJobsApiTests.OrganizationWithValidatedExamplesAsync(fixture, "business", 10);
        async Task<Guid> AgentAsync(string name, string? baseModel) =>
            (await (await admin.PostAsJsonAsync($"/v1/organizations/{org}/agents", new { name, defaultBaseModel = baseModel }))
                .ReadJsonAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();
        var withBase = await AgentAsync("With base", "sandbox/sandbox-large");
        var bare = await AgentAsync("No base", null);
        var jobId = Guid.NewGuid();
        await (await admin.PostAsJsonAsync($"/v1/organizations/{org}/training-jobs", new { id = jobId, name = "Support", baseModel = Base })).ReadJsonAsync(HttpStatusCode.Created);
        var model = (await TrainingJobsApiTests.FinishedAsync(admin, org, jobId)).GetProperty("modelId").GetGuid();
        var second = await fixture.StartApiAsync(new Dictionary<string, string?>());
        var key = (await (await admin.PostAsJsonAsync($"/v1/organizations/{org}/api-keys", new { name = "runtime", scope = "runtime" })).ReadJsonAsync(HttpStatusCode.Created))
            .GetProperty("key").GetString();
        using var two = fixture.Client(key, second);
        string Resolve(Guid agent) => $"/v1/organizations/{org}/agents/{agent}/resolve?subject=c-1";

        var baseAnswer = await (await two.GetAsync(Resolve(withBase))).ReadJsonAsync();
        var nothing = await (await two.GetAsync(Resolve(bare))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await admin.PutAsJsonAsync($"/v1/organizations/{org}/models/default", new { modelId = model })).ReadJsonAsync();
        var started = Stopwatch.StartNew();
        JsonElement viaDefault = default;
        while ((viaDefault = await (await two.GetAsync(Resolve(withBase))).ReadJsonAsync()).GetProperty("source").GetString() != "organizationDefault"
            && started.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }
        var propagation = started.Elapsed;
        var bareViaDefault = await (await two.GetAsync(Resolve(bare))).ReadJsonAsync();
        var added = await AgentAsync("Added later", "sandbox/sandbox-small");
        using var oneRuntime = fixture.Client(key);
        await (await oneRuntime.GetAsync(Resolve(withBase))).ReadJsonAsync();
        var addedAnswer = await (await oneRuntime.GetAsync(Resolve(added))).ReadJsonAsync();
        (await admin.DeleteAsync($"/v1/organizations/{org}/agents/{added}")).StatusCode.Should().Be(HttpStatusCode.OK);
        var archived = await (await oneRuntime.GetAsync(Resolve(added))).ShouldBeProblemAsync(HttpStatusCode.NotFound);

        baseAnswer.GetProperty("source").GetString().Should().Be("agentBaseModel");
        baseAnswer.GetProperty("providerModel").GetString().Should().Be("sandbox-large");
        nothing.GetProperty("field").GetString().Should().Be("agentId");
        propagation.Should().BeLessThan(TimeSpan.FromSeconds(1), "a new default model reaches every API process within one second");
        viaDefault.GetProperty("modelId").GetGuid().Should().Be(model);
        viaDefault.GetProperty("fallback").GetProperty("providerModel").GetString().Should().Be("sandbox-large", "the fallback is the agent's base model");
        bareViaDefault.GetProperty("modelId").GetGuid().Should().Be(model);
        bareViaDefault.GetProperty("fallback").GetProperty("providerModel").GetString().Should().Be("sandbox-small", "with no base model of its own, the default's base model");
        addedAnswer.GetProperty("modelId").GetGuid().Should().Be(model, "an agent added after the organization was held resolves at once on the host that added it");
        addedAnswer.GetProperty("source").GetString().Should().Be("organizationDefault", "the default applies to every agent with no deployment");
        archived.GetProperty("title").GetString().Should().Be("Agent not found");
    }

    [Fact]
    public async Task The_fast_path_answers_exactly_what_the_general_pipeline_answers_and_passes_every_other_case_on()
    {
        var (org, admin) = await fixture.CreateOrganizationAsync("business");
        using var adminClient = fixture.Client(admin);
        var agent = (await (await adminClient.PostAsJsonAsync($"/v1/organizations/{org}/agents", new { name = "Bot", defaultBaseModel = Base }))
            .ReadJsonAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();
        var deployment = $"/v1/organizations/{org}/agents/{agent}/deployment";
        await (await adminClient.PutAsJsonAsync(deployment, new { model = new { baseModel = Base } })).ReadJsonAsync();
        await (await adminClient.PostAsJsonAsync($"{deployment}/experiment", new { candidate = new { baseModel = "sandbox/sandbox-large" }, candidateShare = 0.4 })).ReadJsonAsync();
        var key = (await (await adminClient.PostAsJsonAsync($"/v1/organizations/{org}/api-keys", new { name = "runtime", scope = "runtime" })).ReadJsonAsync(HttpStatusCode.Created))
            .GetProperty("key").GetString()!;
        var fast = await fixture.StartApiAsync(new Dictionary<string, string?>());
        var general = await fixture.StartApiAsync(new Dictionary<string, string?> { ["Api:ResolveFastPath"] = "false" });
        using var onFast = fixture.Client(key, fast);
        using var onGeneral = fixture.Client(key, general);
        var resolve = $"/v1/organizations/{org}/agents/{agent}/resolve";
        // Both hosts hold the organization (the first valid key check makes them), so the fast host answers from memory.
        await onFast.GetAsync($"{resolve}?subject=warm");
        await onGeneral.GetAsync($"{resolve}?subject=warm");
        var counter = fixture.ApiServices(fast).GetRequiredService<ResolveFastPathCounter>();
        await Eventually.Async(() => Task.FromResult(fixture.ApiServices(fast).GetRequiredService<ResolutionCache>().TryGetHeld(org, out _)), TimeSpan.FromSeconds(5));
        var before = counter.Answered;

        var same = new List<(string Fast, string General)>();
        foreach (var subject in Enumerable.Range(0, 60).Select(i => $"conversation-{i}").Append("with space").Append("ünïcode-€"))
        {
            var query = $"{resolve}?subject={Uri.EscapeDataString(subject)}";
            same.Add((await (await onFast.GetAsync(query)).Content.ReadAsStringAsync(), await (await onGeneral.GetAsync(query)).Content.ReadAsStringAsync()));
        }
        var answered = counter.Answered - before;
        var other = await fixture.CreateOrganizationAsync();
        string[] cases =
        [
            resolve,
            $"{resolve}?subject=",
            $"{resolve}?subject={new string('s', 300)}",
            $"{resolve}?subject=a%00b",
            $"{resolve}?subject=a&subject=b",
            $"/v1/organizations/{org}/agents/{Guid.NewGuid()}/resolve?subject=x",
            $"/v1/organizations/{other.Id}/agents/{agent}/resolve?subject=x",
        ];
        var refusals = new List<(HttpStatusCode Fast, HttpStatusCode General, string? FastTitle, string? GeneralTitle)>();
        foreach (var path in cases)
        {
            var f = await onFast.GetAsync(path);
            var g = await onGeneral.GetAsync(path);
            refusals.Add((f.StatusCode, g.StatusCode, await TitleAsync(f), await TitleAsync(g)));
        }
        using var wrongSecret = fixture.Client(key[..^3] + "zzz", fast);
        var wrong = await wrongSecret.GetAsync($"{resolve}?subject=x");
        using var viaHeader = new HttpClient { BaseAddress = fast };
        viaHeader.DefaultRequestHeaders.Add("X-Api-Key", key);
        var header = await viaHeader.GetAsync($"{resolve}?subject=conversation-1");

        answered.Should().Be(same.Count, "every plain resolution was answered on the fast path");
        same.Should().AllSatisfy(p => p.Fast.Should().Be(p.General));
        refusals.Should().AllSatisfy(r => { r.Fast.Should().Be(r.General); r.FastTitle.Should().Be(r.GeneralTitle); });
        refusals.Select(r => (int)r.Fast).Should().Equal(400, 400, 400, 400, 400, 404, 404);
        wrong.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await header.ReadJsonAsync()).GetProperty("arm").GetString().Should().NotBeNull("a key in X-Api-Key goes through the general pipeline, same answer");
        fixture.ApiServices(general).GetRequiredService<ResolveFastPathCounter>().Answered.Should().Be(0);
    }

    private static async Task<string?> TitleAsync(HttpResponseMessage response) =>
        response.Content.Headers.ContentType?.MediaType == "application/problem+json"
            ? JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("title").GetString()
            : null;
}
