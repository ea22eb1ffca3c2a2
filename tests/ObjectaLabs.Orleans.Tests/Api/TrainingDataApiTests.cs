using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ObjectaLabs.Orleans.Tests.Infrastructure;

namespace ObjectaLabs.Orleans.Tests.Api;

[Collection(ApiCollection.Name)]
public sealed class TrainingDataApiTests(ApiFixture fixture)
{
    private static string Chat(string user, string assistant) =>
        JsonSerializer.Serialize(new { messages = new[] { new { role = "user", content = user }, new { role = "assistant", content = assistant } } });

    private static StringContent Jsonl(IEnumerable<string> lines) => new(string.Join("\n", lines) + "\n", Encoding.UTF8, "application/jsonl");

    private static object Example(string user, string assistant) => JsonDocument.Parse(Chat(user, assistant)).RootElement;

    [Fact]
    public async Task Upload_stores_a_jsonl_file_and_the_list_shows_it_with_counts()
    {
        var (id, key) = await fixture.CreateOrganizationAsync();
        using var client = fixture.Client(key);

        var report = await (await client.PostAsync($"/v1/organizations/{id}/examples/uploads?tags=faq", Jsonl(Enumerable.Range(0, 3).Select(i => Chat($"q{i}", $"a{i}")))))
            .ReadJsonAsync();
        var list = await (await client.GetAsync($"/v1/organizations/{id}/examples?tag=faq&validation=pending")).ReadJsonAsync();

        report.GetProperty("storedExamples").GetInt64().Should().Be(3);
        report.GetProperty("stored").GetBoolean().Should().BeTrue();
        list.GetProperty("items").GetArrayLength().Should().Be(3);
        list.GetProperty("items")[0].GetProperty("source").GetString().Should().Be("upload");
        list.GetProperty("counts").GetProperty("pending").GetInt32().Should().Be(3);
    }

    [Fact]
    public async Task Upload_with_a_bad_line_is_a_422_problem_naming_the_line_and_path_and_stores_nothing()
    {
        var (id, key) = await fixture.CreateOrganizationAsync();
        using var client = fixture.Client(key);
        var lines = new[] { Chat("a", "b"), """{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a","weight":2}]}""", Chat("c", "d") };

        var problem = await (await client.PostAsync($"/v1/organizations/{id}/examples/uploads", Jsonl(lines)))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);

        var issue = problem.GetProperty("issues").EnumerateArray().Should().ContainSingle().Subject;
        issue.GetProperty("line").GetInt64().Should().Be(2);
        issue.GetProperty("path").GetString().Should().Be("$.messages[1].weight");
        issue.GetProperty("reason").GetString().Should().Contain("0 or 1");
        var list = await (await client.GetAsync($"/v1/organizations/{id}/examples")).ReadJsonAsync();
        list.GetProperty("items").GetArrayLength().Should().Be(0);

        var partial = await (await client.PostAsync($"/v1/organizations/{id}/examples/uploads?mode=storeValid", Jsonl(lines))).ReadJsonAsync();
        partial.GetProperty("storedExamples").GetInt64().Should().Be(2);
    }

    [Fact]
    public async Task Upload_streams_and_stores_files_far_larger_than_the_json_body_limit()
    {
        var (id, key) = await fixture.CreateOrganizationAsync(plan: "enterprise");
        using var client = fixture.Client(key);
        var padding = new string('x', 1000);
        var lines = Enumerable.Range(0, 3000).Select(i => Chat($"question {i} {padding}", "answer")).ToList(); // ~3 MB against a 64 KB JSON limit

        var report = await (await client.PostAsync($"/v1/organizations/{id}/examples/uploads?baseModel=openai/gpt-3.5-turbo-0125", Jsonl(lines))).ReadJsonAsync();
        var listed = await (await client.GetAsync($"/v1/organizations/{id}/examples?limit=1")).ReadJsonAsync();

        report.GetProperty("validLines").GetInt64().Should().Be(3000);
        report.GetProperty("storedExamples").GetInt64().Should().Be(3000);
        report.GetProperty("totalTokens").GetInt64().Should().BeGreaterThan(3000 * 100);
        listed.GetProperty("counts").GetProperty("pending").GetInt32().Should().Be(3000, "every line of the 3 MB file was stored");
    }

    [Fact]
    public async Task An_upload_lands_only_in_its_own_organization_and_another_organizations_key_cannot_upload_into_it()
    {
        var (a, keyA) = await fixture.CreateOrganizationAsync();
        var (b, keyB) = await fixture.CreateOrganizationAsync();
        using var asA = fixture.Client(keyA);
        using var asB = fixture.Client(keyB);

        var intrusion = await asB.PostAsync($"/v1/organizations/{a}/examples/uploads", Jsonl([Chat("planted", "by B")]));
        await (await asA.PostAsync($"/v1/organizations/{a}/examples/uploads", Jsonl([Chat("mine", "A's")]))).ReadJsonAsync();

        await intrusion.ShouldBeProblemAsync(HttpStatusCode.NotFound);
        var mine = await (await asA.GetAsync($"/v1/organizations/{a}/examples")).ReadJsonAsync();
        var theirs = await (await asB.GetAsync($"/v1/organizations/{b}/examples")).ReadJsonAsync();
        mine.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("example").GetRawText()).Should().ContainSingle()
            .Which.Should().Contain("A's").And.NotContain("planted");
        theirs.GetProperty("items").GetArrayLength().Should().Be(0);
    }

    [Fact]
    public async Task Example_lifecycle_create_validate_edit_clears_validation_delete()
    {
        var (id, key) = await fixture.CreateOrganizationAsync();
        using var client = fixture.Client(key);

        var created = await (await client.PostAsJsonAsync($"/v1/organizations/{id}/examples", new { example = Example("How?", "Like this."), tags = new[] { "how-to" } }))
            .ReadJsonAsync(HttpStatusCode.Created);
        var exampleId = created.GetProperty("id").GetGuid();
        var validated = await (await client.PostAsJsonAsync($"/v1/organizations/{id}/examples/{exampleId}/validation", new { qualityScore = 0.9 })).ReadJsonAsync();
        var edited = await (await client.PatchAsJsonAsync($"/v1/organizations/{id}/examples/{exampleId}", new { example = Example("How?", "Like that.") })).ReadJsonAsync();

        validated.GetProperty("isValidated").GetBoolean().Should().BeTrue();
        validated.GetProperty("validatedBy").GetString().Should().StartWith("key:");
        edited.GetProperty("isValidated").GetBoolean().Should().BeFalse();
        edited.GetProperty("example").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Object, "an example is answered as the JSON object it is");
        edited.GetProperty("example").GetProperty("messages").EnumerateArray().Last().GetProperty("content").GetString().Should().Be("Like that.");
        (await client.DeleteAsync($"/v1/organizations/{id}/examples/{exampleId}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await (await client.GetAsync($"/v1/organizations/{id}/examples/{exampleId}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Invalid_example_is_a_400_problem_naming_the_json_path()
    {
        var (id, key) = await fixture.CreateOrganizationAsync();
        using var client = fixture.Client(key);

        var problem = await (await client.PostAsJsonAsync($"/v1/organizations/{id}/examples",
                new { example = JsonDocument.Parse("""{"messages":[{"role":"robot","content":"hi"},{"role":"assistant","content":"x"}]}""").RootElement }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest);

        problem.GetProperty("field").GetString().Should().Be("example");
        problem.GetProperty("path").GetString().Should().Be("$.messages[0].role");
        problem.GetProperty("code").GetString().Should().Be("unknown_role");
    }

    [Fact]
    public async Task Another_organizations_examples_answer_404()
    {
        var (a, keyA) = await fixture.CreateOrganizationAsync();
        var (b, keyB) = await fixture.CreateOrganizationAsync();
        using var asB = fixture.Client(keyB);
        var created = await (await asB.PostAsJsonAsync($"/v1/organizations/{b}/examples", new { example = Example("secret", "of B") })).ReadJsonAsync(HttpStatusCode.Created);
        var exampleId = created.GetProperty("id").GetGuid();
        using var asA = fixture.Client(keyA);

        await (await asA.GetAsync($"/v1/organizations/{b}/examples")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await asA.GetAsync($"/v1/organizations/{b}/examples/export")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await asA.GetAsync($"/v1/organizations/{a}/examples/{exampleId}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await asA.DeleteAsync($"/v1/organizations/{a}/examples/{exampleId}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        (await asB.GetAsync($"/v1/organizations/{b}/examples/{exampleId}")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Runtime_key_reports_conversations_and_admin_imports_them()
    {
        var (id, adminKey) = await fixture.CreateOrganizationAsync();
        using var admin = fixture.Client(adminKey);
        var agent = (await (await admin.PostAsJsonAsync($"/v1/organizations/{id}/agents", new { name = "Support" })).ReadJsonAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();
        var issued = await (await admin.PostAsJsonAsync($"/v1/organizations/{id}/api-keys", new { name = "runtime", scope = "runtime" })).ReadJsonAsync(HttpStatusCode.Created);
        using var runtime = fixture.Client(issued.GetProperty("key").GetString());
        var conversation = new
        {
            agentId = agent,
            messages = new object[] { new { role = "user", content = "Where is my parcel?" }, new { role = "assistant", content = "On its way." } },
            rating = 5,
            metadata = new Dictionary<string, string> { ["channel"] = "chat" },
            endedAt = DateTimeOffset.UtcNow,
            externalId = "conv-1",
        };

        await (await runtime.PostAsJsonAsync($"/v1/organizations/{id}/conversations", conversation)).ReadJsonAsync(HttpStatusCode.Created);
        await (await runtime.PostAsJsonAsync($"/v1/organizations/{id}/conversations", conversation)).ReadJsonAsync(HttpStatusCode.OK);
        await (await runtime.PostAsJsonAsync($"/v1/organizations/{id}/conversations/imports", new { })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        var imported = await (await admin.PostAsJsonAsync($"/v1/organizations/{id}/conversations/imports", new { agentId = agent, minRating = 4 })).ReadJsonAsync();
        var again = await (await admin.PostAsJsonAsync($"/v1/organizations/{id}/conversations/imports", new { agentId = agent, minRating = 4 })).ReadJsonAsync();

        imported.GetProperty("created").GetInt32().Should().Be(1);
        again.GetProperty("created").GetInt32().Should().Be(0);
        again.GetProperty("alreadyImported").GetInt32().Should().Be(1);
    }

    [Fact]
    public async Task Export_streams_validated_examples_as_jsonl_by_split_part()
    {
        var (id, key) = await fixture.CreateOrganizationAsync();
        using var client = fixture.Client(key);
        await (await client.PostAsync($"/v1/organizations/{id}/examples/uploads", Jsonl(Enumerable.Range(0, 20).Select(i => Chat($"q{i}", $"a{i}"))))).ReadJsonAsync();
        var page = await (await client.GetAsync($"/v1/organizations/{id}/examples?limit=200")).ReadJsonAsync();
        var ids = page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetGuid()).ToList();
        await (await client.PostAsJsonAsync($"/v1/organizations/{id}/examples/validation", new { ids, qualityScore = 1 })).ReadJsonAsync();

        var response = await client.GetAsync($"/v1/organizations/{id}/examples/export?seed=5&validationRatio=0.25&part=validation");
        var validation = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var train = (await client.GetStringAsync($"/v1/organizations/{id}/examples/export?seed=5&validationRatio=0.25&part=train")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var split = await (await client.GetAsync($"/v1/organizations/{id}/examples/split?seed=5&validationRatio=0.25")).ReadJsonAsync();

        response.Content.Headers.ContentType!.MediaType.Should().Be("application/jsonl");
        validation.Should().HaveCount(5).And.OnlyContain(l => JsonDocument.Parse(l).RootElement.GetProperty("messages").GetArrayLength() == 2);
        train.Should().HaveCount(15).And.NotIntersectWith(validation);
        split.GetProperty("validation").GetInt32().Should().Be(5);
        await (await client.GetAsync($"/v1/organizations/{id}/examples/export?part=train")).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Quality_report_names_the_target_model_and_needs_one()
    {
        var (id, key) = await fixture.CreateOrganizationAsync();
        using var client = fixture.Client(key);
        await (await client.PostAsJsonAsync($"/v1/organizations/{id}/examples", new { example = Example("hello world", "Hello, world!") })).ReadJsonAsync(HttpStatusCode.Created);

        var report = await (await client.GetAsync($"/v1/organizations/{id}/examples/quality?baseModel=openai/gpt-4o-mini-2024-07-18")).ReadJsonAsync();
        var missing = await (await client.GetAsync($"/v1/organizations/{id}/examples/quality")).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var unknown = await (await client.GetAsync($"/v1/organizations/{id}/examples/quality?baseModel=openai/gpt-9")).ShouldBeProblemAsync(HttpStatusCode.BadRequest);

        report.GetProperty("totalTokens").GetInt64().Should().Be(17);
        report.GetProperty("verdicts").EnumerateArray().Select(v => v.GetProperty("code").GetString()).Should().Contain("cannot_train");
        missing.GetProperty("field").GetString().Should().Be("baseModel");
        unknown.GetProperty("field").GetString().Should().Be("baseModel");
    }

    [Fact]
    public async Task Model_catalog_lists_shutdown_dates_and_unknown_prices_as_null()
    {
        var (_, key) = await fixture.CreateOrganizationAsync();
        using var client = fixture.Client(key);

        var models = await (await client.GetAsync("/v1/base-models")).ReadJsonAsync();

        var gpt35 = models.EnumerateArray().Single(m => m.GetProperty("id").GetString() == "openai/gpt-3.5-turbo-0125");
        gpt35.GetProperty("shutdownDate").GetString().Should().Be("2026-10-23");
        gpt35.GetProperty("tokenizer").GetString().Should().Be("cl100k_base");
        var together = models.EnumerateArray().First(m => m.GetProperty("provider").GetString() == "together");
        together.GetProperty("prices").GetProperty("training").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Fact]
    public async Task Bulk_validation_names_the_ids_it_did_not_find_and_who_validated_is_the_calling_key()
    {
        var (id, key) = await fixture.CreateOrganizationAsync();
        var (other, otherKey) = await fixture.CreateOrganizationAsync();
        using var client = fixture.Client(key);
        using var otherClient = fixture.Client(otherKey);
        var mine = (await (await client.PostAsJsonAsync($"/v1/organizations/{id}/examples", new { example = Example("A?", "A.") })).ReadJsonAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();
        var theirs = (await (await otherClient.PostAsJsonAsync($"/v1/organizations/{other}/examples", new { example = Example("B?", "B.") })).ReadJsonAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();
        var unknown = Guid.NewGuid();

        var forgedReviewer = await (await client.PostAsJsonAsync($"/v1/organizations/{id}/examples/validation", new { ids = new[] { mine }, qualityScore = 0.8, validatedBy = "the CEO" }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var result = await (await client.PostAsJsonAsync($"/v1/organizations/{id}/examples/validation", new { ids = new[] { mine, theirs, unknown }, qualityScore = 0.8 })).ReadJsonAsync();

        forgedReviewer.GetProperty("title").GetString().Should().Be("Unknown field");
        result.GetProperty("validated").GetInt32().Should().Be(1);
        result.GetProperty("notFound").EnumerateArray().Select(e => e.GetGuid()).Should().BeEquivalentTo([theirs, unknown], "another organization's example is not found either");
        var listed = await (await client.GetAsync($"/v1/organizations/{id}/examples")).ReadJsonAsync();
        var item = listed.GetProperty("items").EnumerateArray().Single();
        item.GetProperty("validatedBy").GetString().Should().StartWith("key:");
        item.GetProperty("example").ValueKind.Should().Be(JsonValueKind.Object, "a listed example is the JSON object, not a string of JSON");
        var theirsNow = await (await otherClient.GetAsync($"/v1/organizations/{other}/examples/{theirs}")).ReadJsonAsync();
        theirsNow.GetProperty("isValidated").GetBoolean().Should().BeFalse();
    }

    [Fact]
    public async Task An_export_that_would_be_empty_says_why()
    {
        var (id, key) = await fixture.CreateOrganizationAsync();
        using var client = fixture.Client(key);
        await (await client.PostAsJsonAsync($"/v1/organizations/{id}/examples", new { example = Example("A?", "A.") })).ReadJsonAsync(HttpStatusCode.Created);

        var none = await (await client.GetAsync($"/v1/organizations/{id}/examples/export")).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        var ids = (await (await client.GetAsync($"/v1/organizations/{id}/examples")).ReadJsonAsync()).GetProperty("items").EnumerateArray().Select(e => e.GetProperty("id").GetGuid()).ToArray();
        await (await client.PostAsJsonAsync($"/v1/organizations/{id}/examples/validation", new { ids, qualityScore = 1.0 })).ReadJsonAsync();
        var some = await client.GetAsync($"/v1/organizations/{id}/examples/export");

        none.GetProperty("title").GetString().Should().Be("Nothing to export");
        none.GetProperty("detail").GetString().Should().Contain("no validated examples").And.Contain("1 pending");
        none.GetProperty("pending").GetInt32().Should().Be(1);
        some.StatusCode.Should().Be(HttpStatusCode.OK);
        (await some.Content.ReadAsStringAsync()).Should().Contain("\"A.\"");
    }

    [Fact]
    public async Task An_agents_default_base_model_must_be_one_its_plan_allows()
    {
        var (id, key) = await fixture.CreateOrganizationAsync("professional");
        using var client = fixture.Client(key);

        var refused = await (await client.PostAsJsonAsync($"/v1/organizations/{id}/agents", new { name = "Bot", defaultBaseModel = "openai/gpt-4.1-mini-2025-04-14" }))
            .ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        var allowed = await client.PostAsJsonAsync($"/v1/organizations/{id}/agents", new { name = "Bot", defaultBaseModel = "openai/gpt-4o-mini-2024-07-18" });

        refused.GetProperty("field").GetString().Should().Be("defaultBaseModel");
        refused.GetProperty("plan").GetString().Should().Be("professional");
        refused.GetProperty("detail").GetString().Should().Contain("openai/gpt-4o-mini-2024-07-18", "the refusal lists what the plan does include");
        allowed.StatusCode.Should().Be(HttpStatusCode.Created);
        var agents = await (await client.GetAsync($"/v1/organizations/{id}/agents")).ReadJsonAsync();
        agents.GetArrayLength().Should().Be(1, "the refused agent was not created");
    }

    [Fact]
    public async Task Archiving_an_agent_keeps_its_conversations_and_examples_and_refuses_new_conversations()
    {
        var (id, key) = await fixture.CreateOrganizationAsync();
        using var client = fixture.Client(key);
        var agent = (await (await client.PostAsJsonAsync($"/v1/organizations/{id}/agents", new { name = "Old bot" })).ReadJsonAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();
        object Conversation(string text) => new
        {
            agentId = agent,
            rating = 5,
            endedAt = DateTimeOffset.UtcNow,
            messages = new[] { new { role = "user", content = text }, new { role = "assistant", content = "Sure." } },
        };
        await (await client.PostAsJsonAsync($"/v1/organizations/{id}/conversations", Conversation("Help?"))).ReadJsonAsync(HttpStatusCode.Created);
        await (await client.PostAsJsonAsync($"/v1/organizations/{id}/conversations/imports", new { agentId = agent })).ReadJsonAsync();

        await (await client.DeleteAsync($"/v1/organizations/{id}/agents/{agent}")).ReadJsonAsync();
        var refused = await (await client.PostAsJsonAsync($"/v1/organizations/{id}/conversations", Conversation("Again?"))).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        var reimport = await (await client.PostAsJsonAsync($"/v1/organizations/{id}/conversations/imports", new { agentId = agent })).ReadJsonAsync();
        var examples = await (await client.GetAsync($"/v1/organizations/{id}/examples?agentId={agent}")).ReadJsonAsync();

        refused.GetProperty("detail").GetString().Should().Contain("archived");
        reimport.GetProperty("alreadyImported").GetInt32().Should().Be(1, "the archived agent's conversation is still stored");
        examples.GetProperty("items").GetArrayLength().Should().Be(1, "the example imported from it stays, still linked to the agent");
    }

    [Fact]
    public async Task Redaction_over_HTTP_replaces_personal_data_and_clears_validation_of_what_it_changed()
    {
        var (id, key) = await fixture.CreateOrganizationAsync();
        using var client = fixture.Client(key);
        var leaky = (await (await client.PostAsJsonAsync($"/v1/organizations/{id}/examples", new { example = Example("Mail me at jane.doe@example.com", "Done.") }))
            .ReadJsonAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();
        var clean = (await (await client.PostAsJsonAsync($"/v1/organizations/{id}/examples", new { example = Example("Opening hours?", "Nine to five.") }))
            .ReadJsonAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();
        await (await client.PostAsJsonAsync($"/v1/organizations/{id}/examples/validation", new { ids = new[] { leaky, clean }, qualityScore = 0.9 })).ReadJsonAsync();

        var result = await (await client.PostAsJsonAsync($"/v1/organizations/{id}/examples/redactions", new { })).ReadJsonAsync();
        var redacted = await (await client.GetAsync($"/v1/organizations/{id}/examples/{leaky}")).ReadJsonAsync();
        var untouched = await (await client.GetAsync($"/v1/organizations/{id}/examples/{clean}")).ReadJsonAsync();

        result.GetProperty("examplesChanged").GetInt32().Should().Be(1);
        redacted.GetProperty("example").GetRawText().Should().Contain("[EMAIL]").And.NotContain("jane.doe@example.com");
        redacted.GetProperty("isValidated").GetBoolean().Should().BeFalse("a changed example needs a new review");
        untouched.GetProperty("isValidated").GetBoolean().Should().BeTrue();
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_upload_leaves_nothing_behind_and_frees_its_upload_slot()
    {
        var (id, key) = await fixture.CreateOrganizationAsync();
        var line = System.Text.Encoding.UTF8.GetBytes(Chat("partial", new string('p', 2000)) + "\n");

        // More disconnects than the organization has upload slots (2): each one must give its slot back.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            using var abort = new CancellationTokenSource();
            var body = new HalfSentBody(line, abort);
            using var client = fixture.Client(key);
            using var content = new StreamContent(body);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/jsonl");
            var send = async () => await client.PostAsync($"/v1/organizations/{id}/examples/uploads", content, abort.Token);
            await send.Should().ThrowAsync<OperationCanceledException>();
        }

        using var admin = fixture.Client(key);
        await Eventually.Async(async () =>
        {
            using var response = await admin.PostAsync($"/v1/organizations/{id}/examples/uploads", Jsonl([Chat("after", "the disconnects")]));
            return response.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(30), "the disconnected uploads gave their slots back");
        var listed = await (await admin.GetAsync($"/v1/organizations/{id}/examples")).ReadJsonAsync();
        listed.GetProperty("items").EnumerateArray().Should().ContainSingle("only the finished upload stored anything")
            .Which.GetProperty("example").GetRawText().Should().Contain("after");
    }

    /// <summary>A request body that sends many whole lines (over a chunk), then cancels the request instead of ending.</summary>
    private sealed class HalfSentBody(byte[] line, CancellationTokenSource abort) : Stream
    {
        private const int LinesBeforeDisconnect = 1200; // about 2.4 MB: several chunks reach the grain first
        private int _sent;
        private int _offset;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_sent >= LinesBeforeDisconnect)
            {
                await Task.Delay(300, CancellationToken.None);
                await abort.CancelAsync();
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            var n = Math.Min(buffer.Length, line.Length - _offset);
            line.AsMemory(_offset, n).CopyTo(buffer);
            _offset += n;
            if (_offset == line.Length)
            {
                _offset = 0;
                _sent++;
            }
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
