using System.Text;
using ObjectaLabs.Orleans.Conversations;
using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Quality;
using ObjectaLabs.Orleans.Tests.Infrastructure;
using ObjectaLabs.Orleans.Uploads;

namespace ObjectaLabs.Orleans.Tests.TrainingData;

/// <summary>The grains the API calls, on a real cluster with real storage: the wiring, the wire records and the plan checks.</summary>
[Collection(ClusterCollection.Name)]
public sealed class TrainingDataGrainTests(ClusterFixture cluster)
{
    private async Task<Guid> NewOrganizationAsync(string plan = "business")
    {
        var id = Guid.NewGuid();
        await cluster.Grains.GetGrain<IOrganizationGrain>(id).CreateAsync("Grain test org", plan);
        return id;
    }

    private async Task<UploadReport> UploadAsync(Guid org, string jsonl, UploadOptions options)
    {
        var upload = cluster.Grains.GetGrain<IExampleUploadGrain>(Guid.NewGuid(), org.ToString());
        await upload.StartAsync(options);
        await foreach (var chunk in JsonlChunker.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(jsonl)), chunkBytes: 256))
        {
            await upload.AppendAsync(chunk);
        }
        return await upload.CompleteAsync();
    }

    [Fact]
    public async Task Upload_through_the_grain_stores_examples_the_examples_grain_lists_and_exports()
    {
        var org = await NewOrganizationAsync();
        var jsonl = string.Join("\n", Enumerable.Range(0, 12).Select(i => TrainingDataFixture.Chat($"q{i}", $"a{i}")));

        var report = await UploadAsync(org, jsonl, new UploadOptions(Tags: ["batch-1"]));

        report.StoredExamples.Should().Be(12);
        var examples = cluster.Grains.GetGrain<ITrainingExamplesGrain>(org);
        var page = await examples.ListAsync(new ExampleListRequest(new ExampleFilter(Tag: "batch-1"), Limit: 5));
        page.Items.Should().HaveCount(5);
        page.Counts.Should().Be(new ExampleCounts(0, 12));
        (await examples.BulkValidateAsync(page.Items.Select(i => i.Id).ToList(), "reviewer", 0.9m)).Should().BeEquivalentTo(new BulkValidation(5, []));
        var lines = new List<string>();
        await foreach (var line in examples.ExportAsync(new ExportRequest()))
        {
            lines.Add(line);
        }
        lines.Should().HaveCount(5);
        (await examples.GetQualityReportAsync(new QualityRequest("openai/gpt-4o-mini-2024-07-18"))).Examples.Should().Be(12);
    }

    [Fact]
    public async Task Create_refuses_an_invalid_example_naming_the_json_path()
    {
        var org = await NewOrganizationAsync();
        var create = () => cluster.Grains.GetGrain<ITrainingExamplesGrain>(org).CreateAsync(
            new NewExample("""{"messages":[{"role":"user","content":"Hi"}]}""", null, [], null));

        var problem = (await create.Should().ThrowAsync<ProblemException>()).Which;
        problem.Kind.Should().Be(ProblemKind.Validation);
        problem.Extensions["path"].Should().Be("$.messages");
        problem.Extensions["code"].Should().Be("no_assistant_message");
    }

    [Fact]
    public async Task Free_plan_upload_is_refused_before_the_file_is_sent()
    {
        var org = await NewOrganizationAsync("free");
        var start = () => cluster.Grains.GetGrain<IExampleUploadGrain>(Guid.NewGuid(), org.ToString()).StartAsync(new UploadOptions());

        (await start.Should().ThrowAsync<ProblemException>()).Which.Kind.Should().Be(ProblemKind.PlanLimit);
    }

    [Fact]
    public async Task Free_plan_cannot_store_examples()
    {
        var org = await NewOrganizationAsync("free");
        var create = () => cluster.Grains.GetGrain<ITrainingExamplesGrain>(org).CreateAsync(new NewExample(TrainingDataFixture.Chat("q", "a"), null, [], null));

        (await create.Should().ThrowAsync<ProblemException>()).Which.Kind.Should().Be(ProblemKind.PlanLimit);
    }

    [Fact]
    public async Task Conversations_recorded_through_the_grain_import_as_linked_examples()
    {
        var org = await NewOrganizationAsync();
        var agent = await cluster.Grains.GetGrain<IOrganizationGrain>(org).AddAgentAsync("Support", null);
        var conversations = cluster.Grains.GetGrain<IConversationsGrain>(org);
        var recorded = await conversations.RecordAsync(new NewConversation(agent.Id,
            [new ConversationMessage("user", "Where is my order?"), new ConversationMessage("assistant", "It ships today.")],
            5, new Dictionary<string, string> { ["session"] = "s1" }, null, DateTimeOffset.UtcNow));

        var report = await conversations.ImportAsync(new ConversationImportRequest(AgentId: agent.Id, MinRating: 4));
        var again = await conversations.ImportAsync(new ConversationImportRequest(AgentId: agent.Id, MinRating: 4));

        report.Created.Should().Be(1);
        again.Created.Should().Be(0);
        var page = await cluster.Grains.GetGrain<ITrainingExamplesGrain>(org).ListAsync(new ExampleListRequest(new ExampleFilter(Source: ExampleSource.Conversation)));
        page.Items.Should().ContainSingle().Which.ConversationId.Should().Be(recorded.Id);
    }
}
