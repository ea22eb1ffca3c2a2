using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ObjectaLabs.Orleans.Tests.Infrastructure;
using ObjectaLabs.Orleans.Tests.Training;

namespace ObjectaLabs.Orleans.Tests.FewShot;

/// <summary>
/// Few-shot prompting through the API: templates, selection over the labelled <see cref="SupportIntents"/> fixture,
/// the token budget, what may never be chosen, edits seen within a second, the assembled prompt, and resolution with
/// examples for the runtime.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class FewShotApiTests(ApiFixture fixture)
{
    private const string BaseModel = "openai/gpt-4o-mini-2024-07-18";

    private sealed record Setup(Guid Org, Guid Agent, HttpClient Admin, HttpClient Runtime, Dictionary<Guid, string> Tags)
    {
        public string Template => $"/v1/organizations/{Org}/agents/{Agent}/few-shot";
        public string Preview => $"{Template}/preview";
        public string Resolve => $"/v1/organizations/{Org}/agents/{Agent}/resolve";
        public string Examples => $"/v1/organizations/{Org}/examples";
    }

    private async Task<Setup> SetupAsync(bool withIntents = true, string plan = "business")
    {
        var (org, adminKey) = await fixture.CreateOrganizationAsync(plan);
        var admin = fixture.Client(adminKey);
        var agent = await AgentAsync(admin, org, "Support");
        var key = (await (await admin.PostAsJsonAsync($"/v1/organizations/{org}/api-keys", new { name = "runtime", scope = "runtime" })).ReadJsonAsync(HttpStatusCode.Created))
            .GetProperty("key").GetString();
        var setup = new Setup(org, agent, admin, fixture.Client(key), []);
        if (withIntents)
        {
            var ids = new List<Guid>();
            foreach (var (tag, question, answer) in SupportIntents.Examples())
            {
                var id = await ExampleAsync(setup, question, answer, tag, agent);
                setup.Tags[id] = tag;
                ids.Add(id);
            }
            await (await admin.PostAsJsonAsync($"{setup.Examples}/validation", new { ids, qualityScore = 0.9 })).ReadJsonAsync();
        }
        return setup;
    }

    private static async Task<Guid> AgentAsync(HttpClient admin, Guid org, string name) =>
        (await (await admin.PostAsJsonAsync($"/v1/organizations/{org}/agents", new { name, defaultBaseModel = BaseModel }))
            .ReadJsonAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();

    private static async Task<Guid> ExampleAsync(Setup setup, string question, string answer, string tag, Guid? agentId, bool validate = false)
    {
        var example = new { messages = new object[] { new { role = "system", content = "Be brief." }, new { role = "user", content = question }, new { role = "assistant", content = answer } } };
        var id = (await (await setup.Admin.PostAsJsonAsync(setup.Examples, new { example, agentId, tags = new[] { tag } })).ReadJsonAsync(HttpStatusCode.Created))
            .GetProperty("id").GetGuid();
        if (validate)
        {
            await (await setup.Admin.PostAsJsonAsync($"{setup.Examples}/{id}/validation", new { qualityScore = 1 })).ReadJsonAsync();
        }
        return id;
    }

    private static async Task<JsonElement> PreviewAsync(Setup setup, string message) =>
        await (await setup.Admin.PostAsJsonAsync(setup.Preview, new { message })).ReadJsonAsync();

    private static List<Guid> Chosen(JsonElement selection) =>
        [.. selection.GetProperty("examples").EnumerateArray().Select(e => e.GetProperty("id").GetGuid())];

    [Fact]
    public async Task Lexical_selection_chooses_examples_of_the_messages_intent_and_beats_random_selection_by_a_wide_margin()
    {
        var setup = await SetupAsync();
        await (await setup.Admin.PutAsJsonAsync(setup.Template, new { k = 5, tokenBudget = 4000 })).ReadJsonAsync();

        var refund = await PreviewAsync(setup, "The blender I bought arrived broken, can I get a refund?");
        var chosen = Chosen(refund);
        chosen.Should().HaveCount(5);
        chosen.Take(2).Select(id => setup.Tags[id]).Should().AllBe("refund", "the best-ranked examples share the message's intent");
        chosen.Count(id => setup.Tags[id] == "refund").Should().BeGreaterThanOrEqualTo(3, "a paraphrase of another intent may mention refunds too");
        var scores = refund.GetProperty("examples").EnumerateArray().Select(e => e.GetProperty("score").GetDouble()).ToList();
        scores.Should().BeInDescendingOrder().And.OnlyContain(s => s > 0);
        refund.GetProperty("pool").GetString().Should().Be("agent");

        Chosen(await PreviewAsync(setup, "my tracking number shows nothing for the package")).Take(3).Select(id => setup.Tags[id]).Should().AllBe("tracking");

        var evaluation = await (await setup.Admin.PostAsJsonAsync($"/v1/organizations/{setup.Org}/few-shot/evaluations", new { holdOut = 24, k = 5, seed = 7 })).ReadJsonAsync();
        evaluation.GetProperty("heldOut").GetInt32().Should().Be(24);
        var modes = evaluation.GetProperty("modes").EnumerateArray().ToDictionary(m => m.GetProperty("mode").GetString()!, m => m.GetProperty("recallAtK").GetDouble());
        modes["lexical"].Should().BeGreaterThanOrEqualTo(0.85, "paraphrases of one intent share its words");
        (modes["lexical"] - modes["random"]).Should().BeGreaterThan(0.3, "8 intents: 5 random examples hold the right one about half the time");
    }

    [Fact]
    public async Task Embedding_selection_ranks_by_the_vectors_of_an_OpenAI_compatible_endpoint_and_is_evaluated_beside_lexical()
    {
        var setup = await SetupAsync();
        await (await setup.Admin.PutAsJsonAsync(setup.Template, new { mode = "embedding", k = 5, tokenBudget = 4000 })).ReadJsonAsync();
        var embeddingRequests = fixture.Emulators.OpenAi.Requests.All.Count(r => r.Path.EndsWith("/embeddings", StringComparison.Ordinal));

        var refund = await PreviewAsync(setup, "The blender I bought arrived broken, can I get a refund?");
        refund.GetProperty("mode").GetString().Should().Be("embedding");
        var chosen = Chosen(refund);
        chosen.Should().HaveCount(5);
        setup.Tags[chosen[0]].Should().Be("refund");
        chosen.Count(id => setup.Tags[id] == "refund").Should().BeGreaterThanOrEqualTo(3);
        var scores = refund.GetProperty("examples").EnumerateArray().Select(e => e.GetProperty("score").GetDouble()).ToList();
        scores.Should().BeInDescendingOrder().And.OnlyContain(s => s <= 1.0001, "cosines of unit vectors");
        fixture.Emulators.OpenAi.Requests.All.Count(r => r.Path.EndsWith("/embeddings", StringComparison.Ordinal)).Should().BeGreaterThan(embeddingRequests,
            "the vectors come from the embeddings endpoint over HTTP");
        await using (var db = Npgsql.NpgsqlDataSource.Create(fixture.Database.ConnectionString))
        await using (var count = db.CreateCommand("SELECT count(*) FROM example_embeddings WHERE organization_id = $1 AND model = 'text-embedding-3-small/256' AND cardinality(vector) = 256"))
        {
            count.Parameters.AddWithValue(setup.Org);
            ((long)(await count.ExecuteScalarAsync())!).Should().Be(SupportIntents.Examples().Count(), "each question's vector is stored, so a reactivated index embeds nothing again");
        }

        // A newly validated example is embedded and chosen; a deleted one never is.
        const string Message = "Quokka lanyard engraving smudged";
        var added = await ExampleAsync(setup, Message, "We'll engrave it again.", "engraving", setup.Agent, validate: true);
        await WithinAsync(async () => Chosen(await PreviewAsync(setup, Message)).FirstOrDefault() == added);
        (await setup.Admin.DeleteAsync($"{setup.Examples}/{added}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await WithinAsync(async () => !Chosen(await PreviewAsync(setup, Message)).Contains(added));

        // The embeddings endpoint failing (its one retry too) is a 503 with Retry-After, not a 500; then it serves again.
        fixture.Emulators.OpenAi.Faults.Add(new ProviderEmulators.FaultRule(ProviderEmulators.FaultKinds.ServerError, Count: 2, Path: "/embeddings", Status: 500));
        var failed = await setup.Admin.PostAsJsonAsync(setup.Preview, new { message = "refund please" });
        await failed.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable);
        failed.Headers.RetryAfter.Should().NotBeNull();
        Chosen(await PreviewAsync(setup, "refund please")).Should().NotBeEmpty();

        var evaluation = await (await setup.Admin.PostAsJsonAsync($"/v1/organizations/{setup.Org}/few-shot/evaluations", new { holdOut = 24, k = 5, seed = 7 })).ReadJsonAsync();
        var modes = evaluation.GetProperty("modes").EnumerateArray().ToDictionary(m => m.GetProperty("mode").GetString()!, m => m.GetProperty("recallAtK").GetDouble());
        modes.Keys.Should().BeEquivalentTo(["lexical", "random", "embedding"]);
        modes["embedding"].Should().BeGreaterThan(modes["random"]);
    }

    [Fact]
    public async Task The_token_budget_is_never_exceeded_and_near_duplicates_are_skipped()
    {
        var setup = await SetupAsync();
        // Two near-copies of one question: only one may be chosen.
        await ExampleAsync(setup, "How do I reset my password quickly?", "Use the reset link.", "password", setup.Agent, validate: true);
        await ExampleAsync(setup, "How do I reset my password quickly please?", "Use the reset link on the sign-in page.", "password", setup.Agent, validate: true);
        await (await setup.Admin.PutAsJsonAsync(setup.Template, new { k = 5, tokenBudget = 4000 })).ReadJsonAsync();
        var wide = await PreviewAsync(setup, "How do I reset my password quickly?");
        wide.GetProperty("skippedNearDuplicates").GetInt32().Should().BeGreaterThan(0);
        var questions = wide.GetProperty("examples").EnumerateArray()
            .Select(e => e.GetProperty("messages").EnumerateArray().First(m => m.GetProperty("role").GetString() == "user").GetProperty("content").GetString()).ToList();
        questions.Count(q => q!.StartsWith("How do I reset my password quickly", StringComparison.Ordinal)).Should().Be(1);

        foreach (var budget in new[] { 40, 75, 130 })
        {
            await (await setup.Admin.PutAsJsonAsync(setup.Template, new { k = 5, tokenBudget = budget })).ReadJsonAsync();
            foreach (var message in new[] { "refund for a broken order", "change my shipping address", "invoice with VAT number" })
            {
                var selection = await PreviewAsync(setup, message);
                var tokens = selection.GetProperty("examples").EnumerateArray().Sum(e => e.GetProperty("tokens").GetInt32());
                selection.GetProperty("exampleTokens").GetInt32().Should().Be(tokens);
                tokens.Should().BeLessThanOrEqualTo(budget, $"budget {budget} for '{message}'");
                selection.GetProperty("examples").GetArrayLength().Should().BeGreaterThan(0, "one example fits every budget here");
            }
        }
    }

    [Fact]
    public async Task Pending_examples_and_other_organizations_or_agents_examples_are_never_chosen_and_edits_count_within_a_second()
    {
        var setup = await SetupAsync();
        await (await setup.Admin.PutAsJsonAsync(setup.Template, new { k = 5, tokenBudget = 4000 })).ReadJsonAsync();
        const string Message = "Zebra kiosk voucher redemption stuck";

        // Another organization's and another agent's examples word for word, and a pending one of this agent.
        var other = await SetupAsync(withIntents: false);
        var foreign = await ExampleAsync(other, Message, "Theirs.", "voucher", other.Agent, validate: true);
        var otherAgent = await AgentAsync(setup.Admin, setup.Org, "Sales");
        var sibling = await ExampleAsync(setup, Message, "The sales agent's.", "voucher", otherAgent, validate: true);
        var pending = await ExampleAsync(setup, Message, "Not validated yet.", "voucher", setup.Agent);
        var first = Chosen(await PreviewAsync(setup, Message));
        first.Should().NotContain([foreign, sibling, pending]);

        // Validated: selectable within a second, and first.
        await (await setup.Admin.PostAsJsonAsync($"{setup.Examples}/{pending}/validation", new { qualityScore = 1 })).ReadJsonAsync();
        var seen = await WithinAsync(async () => Chosen(await PreviewAsync(setup, Message)).FirstOrDefault() == pending);
        seen.Should().BeLessThan(TimeSpan.FromSeconds(1));

        // An edit of its content clears its validation: gone within a second; then deleted, it never comes back.
        await (await setup.Admin.PatchAsJsonAsync($"{setup.Examples}/{pending}", new { example = new { messages = new object[] { new { role = "user", content = Message + " again" }, new { role = "assistant", content = "Edited." } } } })).ReadJsonAsync();
        (await WithinAsync(async () => !Chosen(await PreviewAsync(setup, Message)).Contains(pending))).Should().BeLessThan(TimeSpan.FromSeconds(1));
        await (await setup.Admin.PostAsJsonAsync($"{setup.Examples}/{pending}/validation", new { qualityScore = 1 })).ReadJsonAsync();
        await WithinAsync(async () => Chosen(await PreviewAsync(setup, Message)).Contains(pending));
        (await setup.Admin.DeleteAsync($"{setup.Examples}/{pending}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await WithinAsync(async () => !Chosen(await PreviewAsync(setup, Message)).Contains(pending))).Should().BeLessThan(TimeSpan.FromSeconds(1));

        // An agent with no validated examples of its own draws on the organization's (the sales agent's included).
        var newcomer = await AgentAsync(setup.Admin, setup.Org, "Newcomer");
        await (await setup.Admin.PutAsJsonAsync($"/v1/organizations/{setup.Org}/agents/{newcomer}/few-shot", new { k = 3 })).ReadJsonAsync();
        var pooled = await (await setup.Admin.PostAsJsonAsync($"/v1/organizations/{setup.Org}/agents/{newcomer}/few-shot/preview", new { message = Message })).ReadJsonAsync();
        pooled.GetProperty("pool").GetString().Should().Be("organization");
        Chosen(pooled).Should().Contain(sibling).And.NotContain(foreign);

        // The other organization's admin cannot preview this agent, nor name this organization's examples in a fixed template.
        (await other.Admin.PostAsJsonAsync(setup.Preview, new { message = Message })).StatusCode.Should().BeOneOf(HttpStatusCode.Forbidden, HttpStatusCode.NotFound);
        var problem = await (await other.Admin.PutAsJsonAsync(other.Template, new { mode = "fixed", exampleIds = new[] { sibling } })).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        problem.GetProperty("field").GetString().Should().Be("exampleIds");
    }

    private static async Task<TimeSpan> WithinAsync(Func<Task<bool>> condition)
    {
        var watch = Stopwatch.StartNew();
        await Eventually.Async(condition, TimeSpan.FromSeconds(10));
        return watch.Elapsed;
    }

    [Fact]
    public async Task The_assembled_prompt_matches_the_template_exactly_in_both_formats()
    {
        var setup = await SetupAsync();
        await (await setup.Admin.PutAsJsonAsync(setup.Template, new
        {
            format = "text",
            prefix = "You are Acme's support agent.",
            examplePattern = "Q: {question}\nA: {answer}",
            suffix = "Now answer this question:\nQ: {input}\nA:",
            k = 2,
            tokenBudget = 2000,
        })).ReadJsonAsync();
        const string Message = "I need an invoice with my VAT number {answer}";
        var text = await PreviewAsync(setup, Message);
        var examples = text.GetProperty("examples").EnumerateArray().ToList();
        examples.Should().HaveCount(2);
        string Turn(JsonElement e, string role) => e.GetProperty("messages").EnumerateArray().Last(m => m.GetProperty("role").GetString() == role).GetProperty("content").GetString()!;
        var expected = "You are Acme's support agent.\n\n"
            + string.Join("\n\n", examples.Select(e => $"Q: {Turn(e, "user")}\nA: {Turn(e, "assistant")}"))
            + $"\n\nNow answer this question:\nQ: {Message}\nA:";
        text.GetProperty("prompt").GetString().Should().Be(expected, "the user's '{answer}' is text, not a placeholder");
        text.GetProperty("messages").EnumerateArray().Should().ContainSingle().Which.GetProperty("content").GetString().Should().Be(expected);
        text.GetProperty("promptTokens").GetInt32().Should().BeGreaterThan(text.GetProperty("exampleTokens").GetInt32());

        await (await setup.Admin.PutAsJsonAsync(setup.Template, new { format = "chat", prefix = "You are Acme's support agent.", k = 2, tokenBudget = 2000 })).ReadJsonAsync();
        var chat = await PreviewAsync(setup, Message);
        var messages = chat.GetProperty("messages").EnumerateArray().Select(m => (m.GetProperty("role").GetString(), m.GetProperty("content").GetString())).ToList();
        var chosen = chat.GetProperty("examples").EnumerateArray().ToList();
        var expectedMessages = new List<(string?, string?)> { ("system", "You are Acme's support agent.") };
        foreach (var e in chosen)
        {
            expectedMessages.Add(("user", Turn(e, "user")));
            expectedMessages.Add(("assistant", Turn(e, "assistant")));
        }
        expectedMessages.Add(("user", Message));
        messages.Should().Equal(expectedMessages, "system prefix, each example's turns (its own system message left out), then the user's message");
        chat.GetProperty("prompt").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Fact]
    public async Task Template_rules_refuse_each_bad_field_by_name_and_a_refusal_changes_nothing()
    {
        var setup = await SetupAsync(withIntents: false);
        await (await setup.Admin.PutAsJsonAsync(setup.Template, new { k = 4 })).ReadJsonAsync();
        var cases = new (object Body, string Field)[]
        {
            (new { k = 0 }, "k"),
            (new { k = 21 }, "k"),
            (new { tokenBudget = 0 }, "tokenBudget"),
            (new { tokenBudget = 32_001 }, "tokenBudget"),
            (new { format = "text", examplePattern = "Q: {question}" }, "examplePattern"),
            (new { format = "text", suffix = "Q:" }, "suffix"),
            (new { format = "chat", suffix = "Q: {input}" }, "suffix"),
            (new { mode = "fixed" }, "exampleIds"),
            (new { mode = "fixed", exampleIds = new[] { Guid.NewGuid() } }, "exampleIds"),
            (new { exampleIds = new[] { Guid.NewGuid() } }, "exampleIds"),
            (new { prefix = new string('x', 8_001) }, "prefix"),
            (new { prefix = "bad \u0000 text" }, "$.prefix"),
            (new { mode = "semantic" }, "$.mode"),
            (new { k = "five" }, "$.k"),
        };
        foreach (var (body, field) in cases)
        {
            var problem = await (await setup.Admin.PutAsJsonAsync(setup.Template, body)).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
            problem.TryGetProperty("field", out var named).Should().BeTrue(JsonSerializer.Serialize(body));
            named.GetString().Should().Be(field, JsonSerializer.Serialize(body));
        }
        (await (await setup.Admin.GetAsync(setup.Template)).ReadJsonAsync()).GetProperty("k").GetInt32().Should().Be(4, "no refusal changed the template");

        // Messages: required, bounded.
        (await (await setup.Admin.PostAsJsonAsync(setup.Preview, new { })).ShouldBeProblemAsync(HttpStatusCode.BadRequest)).GetProperty("field").GetString().Should().Be("message");
        (await (await setup.Admin.PostAsJsonAsync(setup.Preview, new { message = new string('a', 32_001) })).ShouldBeProblemAsync(HttpStatusCode.BadRequest))
            .GetProperty("field").GetString().Should().Be("message");
        // The runtime key reads no templates; an unknown agent has none.
        (await setup.Runtime.GetAsync(setup.Template)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        await (await setup.Admin.GetAsync($"/v1/organizations/{setup.Org}/agents/{Guid.NewGuid()}/few-shot")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        (await setup.Admin.DeleteAsync(setup.Template)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await (await setup.Admin.GetAsync(setup.Template)).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Hostile_and_malformed_input_on_every_few_shot_route_is_a_4xx_naming_the_field_never_a_500()
    {
        var setup = await SetupAsync(withIntents: false);
        var other = await SetupAsync(withIntents: false);
        await (await setup.Admin.PutAsJsonAsync(setup.Template, new { k = 2 })).ReadJsonAsync();
        var evaluations = $"/v1/organizations/{setup.Org}/few-shot/evaluations";
        var cases = new (HttpClient Client, HttpMethod Method, string Path, string Body, HttpStatusCode Status, string? Field)[]
        {
            (setup.Admin, HttpMethod.Put, setup.Template, "[]", HttpStatusCode.BadRequest, null),
            (setup.Admin, HttpMethod.Put, setup.Template, "\"text\"", HttpStatusCode.BadRequest, null),
            (setup.Admin, HttpMethod.Put, setup.Template, "{\"k\": 1e999}", HttpStatusCode.BadRequest, "$.k"),
            (setup.Admin, HttpMethod.Put, setup.Template, "{\"k\": 2.5}", HttpStatusCode.BadRequest, "$.k"),
            (setup.Admin, HttpMethod.Put, setup.Template, "{\"exampleIds\": [\"not-a-guid\"]}", HttpStatusCode.BadRequest, "$.exampleIds[0]"),
            (setup.Admin, HttpMethod.Put, setup.Template, "{\"mode\": \"fixed\", \"exampleIds\": [" + string.Join(',', Enumerable.Range(0, 100).Select(_ => $"\"{Guid.NewGuid()}\"")) + "]}", HttpStatusCode.BadRequest, "exampleIds"),
            (setup.Admin, HttpMethod.Put, setup.Template, "{\"mode\": 1}", HttpStatusCode.BadRequest, "$.mode"),
            (setup.Admin, HttpMethod.Post, setup.Preview, "{\"message\": 5}", HttpStatusCode.BadRequest, "$.message"),
            (setup.Admin, HttpMethod.Post, setup.Preview, $"{{\"message\": \"hi\", \"model\": {{\"modelId\": \"{Guid.NewGuid()}\"}}}}", HttpStatusCode.BadRequest, "model.modelId"),
            (setup.Admin, HttpMethod.Post, setup.Preview, "{\"message\": \"hi\", \"model\": {\"baseModel\": \"acme/unknown\"}}", HttpStatusCode.BadRequest, "model.baseModel"),
            (setup.Admin, HttpMethod.Post, setup.Preview, "{\"message\": \"hi\", \"model\": {}}", HttpStatusCode.BadRequest, "model"),
            (setup.Admin, HttpMethod.Post, evaluations, "{\"holdOut\": 0}", HttpStatusCode.BadRequest, "holdOut"),
            (setup.Admin, HttpMethod.Post, evaluations, "{\"k\": 21}", HttpStatusCode.BadRequest, "k"),
            (setup.Admin, HttpMethod.Post, evaluations, "{\"seed\": \"x\"}", HttpStatusCode.BadRequest, "$.seed"),
            (setup.Admin, HttpMethod.Post, evaluations, $"{{\"agentId\": \"{other.Agent}\"}}", HttpStatusCode.NotFound, null),
            (setup.Runtime, HttpMethod.Post, setup.Resolve, "{\"subject\": 5, \"message\": \"hi\"}", HttpStatusCode.BadRequest, "$.subject"),
            (setup.Runtime, HttpMethod.Post, setup.Resolve, "{\"subject\": \"c\", \"message\": \"\"}", HttpStatusCode.BadRequest, "message"),
            (setup.Runtime, HttpMethod.Post, setup.Resolve, $"{{\"subject\": \"{new string('s', 257)}\", \"message\": \"hi\"}}", HttpStatusCode.BadRequest, "subject"),
            (setup.Runtime, HttpMethod.Post, setup.Resolve, "{\"message\": \"bad \\u0000 text\"}", HttpStatusCode.BadRequest, "$.message"),
            (setup.Runtime, HttpMethod.Post, setup.Template + "/preview", "{\"message\": \"hi\"}", HttpStatusCode.Forbidden, null),
            (other.Runtime, HttpMethod.Post, setup.Resolve, "{\"message\": \"hi\"}", HttpStatusCode.NotFound, null),
        };
        foreach (var (client, method, path, body, status, field) in cases)
        {
            using var request = new HttpRequestMessage(method, path) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
            var problem = await (await client.SendAsync(request)).ShouldBeProblemAsync(status);
            if (field is not null)
            {
                problem.GetProperty("field").GetString().Should().Be(field, body.Length > 200 ? body[..200] : body);
            }
        }
        (await (await setup.Admin.GetAsync(setup.Template)).ReadJsonAsync()).GetProperty("k").GetInt32().Should().Be(2, "no refusal changed the template");
        var modelOnly = await (await setup.Runtime.PostAsJsonAsync(setup.Resolve, new { include = "model" })).ReadJsonAsync();
        modelOnly.GetProperty("fewShot").ValueKind.Should().Be(JsonValueKind.Null, "include=model needs no message");
    }

    [Fact]
    public async Task Resolution_with_selection_has_its_own_rate_limit_per_key_apart_from_plain_resolution()
    {
        var setup = await SetupAsync(withIntents: false);
        var api = await fixture.StartApiAsync(new Dictionary<string, string?>
        {
            ["RateLimits:Selection:PermitsPerSecond"] = "1",
            ["RateLimits:Selection:Burst"] = "2",
        });
        using var runtime = fixture.Client(setup.Runtime.DefaultRequestHeaders.Authorization!.Parameter, api);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add((await runtime.PostAsJsonAsync(setup.Resolve, new { subject = "c-1", include = "model" })).StatusCode);
        }
        statuses.Should().Contain(HttpStatusCode.TooManyRequests).And.StartWith(HttpStatusCode.OK);
        (await runtime.GetAsync($"{setup.Resolve}?subject=c-1")).StatusCode.Should().Be(HttpStatusCode.OK, "plain resolution spends from its own bucket");
    }

    [Fact]
    public async Task Concurrent_selections_batched_into_shared_grain_calls_each_get_their_own_messages_examples()
    {
        var setup = await SetupAsync();
        await (await setup.Admin.PutAsJsonAsync($"/v1/organizations/{setup.Org}/agents/{setup.Agent}/deployment", new { model = new { baseModel = BaseModel } })).ReadJsonAsync();
        await (await setup.Admin.PutAsJsonAsync(setup.Template, new { k = 3 })).ReadJsonAsync();
        string[] messages = ["The blender I bought arrived broken, can I get a refund?", "my tracking number shows nothing for the package"];
        // What each message chooses alone, through the admin preview (a direct call, no batching).
        var alone = new Dictionary<string, List<Guid>>();
        foreach (var message in messages)
        {
            alone[message] = Chosen(await PreviewAsync(setup, message));
        }

        // 60 at once: the API process sends them to the index grain in shared calls; each answer must be its own message's.
        var answers = await Task.WhenAll(Enumerable.Range(0, 60).Select(async i =>
        {
            var message = messages[i % 2];
            var answer = await (await setup.Runtime.PostAsJsonAsync(setup.Resolve, new { subject = $"c-{i}", message, include = "messages" })).ReadJsonAsync();
            return (message, answer);
        }));
        foreach (var (message, answer) in answers)
        {
            Chosen(answer.GetProperty("fewShot")).Should().Equal(alone[message], "a batched selection answers the request it was asked for");
            answer.GetProperty("fewShot").GetProperty("messages").EnumerateArray().Last().GetProperty("content").GetString().Should().Be(message);
        }
    }

    [Fact]
    public async Task Resolution_returns_examples_or_messages_for_base_models_and_a_fixed_template_keeps_its_order()
    {
        var setup = await SetupAsync();
        var deployment = $"/v1/organizations/{setup.Org}/agents/{setup.Agent}/deployment";
        await (await setup.Admin.PutAsJsonAsync(deployment, new { model = new { baseModel = BaseModel } })).ReadJsonAsync();

        var none = await (await setup.Runtime.PostAsJsonAsync(setup.Resolve, new { subject = "c-1", message = "refund please" })).ReadJsonAsync();
        none.GetProperty("resolution").GetProperty("name").GetString().Should().Be(BaseModel);
        none.GetProperty("fewShot").ValueKind.Should().Be(JsonValueKind.Null);
        none.GetProperty("fewShotNote").GetString().Should().Contain("no few-shot template");

        await (await setup.Admin.PutAsJsonAsync(setup.Template, new { k = 3 })).ReadJsonAsync();
        var messages = await (await setup.Runtime.PostAsJsonAsync(setup.Resolve, new { subject = "c-1", message = "refund for my broken order" })).ReadJsonAsync();
        var fewShot = messages.GetProperty("fewShot");
        fewShot.GetProperty("tokenizer").GetString().Should().Be("o200k_base");
        fewShot.GetProperty("messages").GetArrayLength().Should().Be(3 * 2 + 1);
        fewShot.GetProperty("examples").EnumerateArray().Should().OnlyContain(e => e.GetProperty("messages").GetArrayLength() == 0, "include=messages lists the examples by id only");

        var examples = (await (await setup.Runtime.PostAsJsonAsync(setup.Resolve, new { subject = "c-1", message = "refund for my broken order", include = "examples" })).ReadJsonAsync())
            .GetProperty("fewShot");
        examples.GetProperty("messages").GetArrayLength().Should().Be(0);
        examples.GetProperty("examples").EnumerateArray().Should().OnlyContain(e => e.GetProperty("messages").GetArrayLength() == 2);
        Chosen(examples).Should().Equal(Chosen(fewShot), "the same request chooses the same examples");

        var model = await (await setup.Runtime.PostAsJsonAsync(setup.Resolve, new { subject = "c-1", include = "model" })).ReadJsonAsync();
        model.GetProperty("fewShot").ValueKind.Should().Be(JsonValueKind.Null);
        (await (await setup.Runtime.PostAsJsonAsync(setup.Resolve, new { subject = "c-1" })).ShouldBeProblemAsync(HttpStatusCode.BadRequest))
            .GetProperty("field").GetString().Should().Be("message");
        (await (await setup.Runtime.PostAsJsonAsync(setup.Resolve, new { subject = "c-1", message = "x", include = "everything" })).ShouldBeProblemAsync(HttpStatusCode.BadRequest))
            .GetProperty("field").GetString().Should().Be("$.include");

        // Fixed: the admin's examples in the admin's order, whatever the message.
        var fixedIds = setup.Tags.Where(t => t.Value == "invoice").Select(t => t.Key).Take(2).Reverse().ToList();
        await (await setup.Admin.PutAsJsonAsync(setup.Template, new { mode = "fixed", exampleIds = fixedIds })).ReadJsonAsync();
        var fixedAnswer = (await (await setup.Runtime.PostAsJsonAsync(setup.Resolve, new { subject = "c-1", message = "refund please" })).ReadJsonAsync()).GetProperty("fewShot");
        Chosen(fixedAnswer).Should().Equal(fixedIds);
        fixedAnswer.GetProperty("pool").GetString().Should().Be("fixed");
    }

    [Fact]
    public async Task An_experiment_between_a_base_model_with_few_shot_and_a_fine_tuned_model_gives_examples_only_to_the_base_arm()
    {
        const string Sandbox = "sandbox/sandbox-small";
        var (org, admin) = await TrainingJobsApiTests.OrganizationWithValidatedExamplesAsync(fixture, "business", 10);
        var agent = (await (await admin.PostAsJsonAsync($"/v1/organizations/{org}/agents", new { name = "Bot", defaultBaseModel = Sandbox }))
            .ReadJsonAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();
        var jobId = Guid.NewGuid();
        await (await admin.PostAsJsonAsync($"/v1/organizations/{org}/training-jobs", new { id = jobId, name = "Support", baseModel = Sandbox })).ReadJsonAsync(HttpStatusCode.Created);
        var model = (await TrainingJobsApiTests.FinishedAsync(admin, org, jobId)).GetProperty("modelId").GetGuid();
        var deployment = $"/v1/organizations/{org}/agents/{agent}/deployment";
        await (await admin.PutAsJsonAsync(deployment, new { model = new { baseModel = Sandbox } })).ReadJsonAsync();
        await (await admin.PostAsJsonAsync($"{deployment}/experiment", new { candidate = new { modelId = model }, candidateShare = 0.5 })).ReadJsonAsync();
        await (await admin.PutAsJsonAsync($"/v1/organizations/{org}/agents/{agent}/few-shot", new { k = 2 })).ReadJsonAsync();

        var arms = new Dictionary<string, JsonElement>();
        for (var i = 0; arms.Count < 2 && i < 200; i++)
        {
            var answer = await (await admin.PostAsJsonAsync($"/v1/organizations/{org}/agents/{agent}/resolve", new { subject = $"conversation-{i}", message = "How do I reset my password?" }))
                .ReadJsonAsync();
            arms.TryAdd(answer.GetProperty("resolution").GetProperty("arm").GetString()!, answer);
        }
        arms["control"].GetProperty("fewShot").GetProperty("examples").GetArrayLength().Should().BeGreaterThan(0, "the base-model arm gets the organization's examples");
        arms["candidate"].GetProperty("fewShot").ValueKind.Should().Be(JsonValueKind.Null);
        arms["candidate"].GetProperty("fewShotNote").GetString().Should().Contain("fine-tuned");
        arms["candidate"].GetProperty("resolution").GetProperty("modelId").GetGuid().Should().Be(model);
    }
}
