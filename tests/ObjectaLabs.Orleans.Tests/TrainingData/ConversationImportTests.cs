using ObjectaLabs.Orleans.Conversations;
using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Tests.TrainingData;

public sealed class ConversationImportTests(TrainingDataFixture f) : IClassFixture<TrainingDataFixture>
{
    private static readonly DateTimeOffset Day = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly ObjectaLabs.Orleans.Plans.PlanDefinition Unlimited = new("unlimited", "Unlimited", true, null, null, false, ["*"]);

    private static NewConversation Chat(Guid agent, int? rating, int day, params (string Role, string Text)[] messages) =>
        new(agent, messages.Select(m => new ConversationMessage(m.Role, m.Text)).ToList(), rating,
            new Dictionary<string, string> { ["channel"] = "web" }, Day.AddDays(day).AddMinutes(-5), Day.AddDays(day));

    private async Task<Guid> RecordAsync(Guid org, NewConversation c) => (await f.Conversations.InsertAsync(org, Guid.NewGuid(), c, Unlimited)).Id;

    private Task<ConversationImportReport> ImportAsync(Guid org, ConversationImportRequest request) =>
        f.Importer.ImportAsync(org, request, ExampleLimits.None, DateTimeOffset.UtcNow);

    private async Task<List<TrainingExample>> ExamplesAsync(Guid org) =>
        [.. (await f.Examples.ListAsync(org, new ExampleListRequest(new ExampleFilter(), Limit: 200))).Items];

    [Fact]
    public async Task Import_filters_by_agent_and_minimum_rating_and_keeps_whole_multi_turn_conversations()
    {
        var org = await f.NewOrganizationAsync();
        var a = await f.NewAgentAsync(org, "A");
        var b = await f.NewAgentAsync(org, "B");
        var great = await RecordAsync(org, Chat(a, 5, 0, ("system", "Be kind."), ("user", "Hi"), ("assistant", "Hello"), ("user", "Bye"), ("assistant", "Goodbye")));
        await RecordAsync(org, Chat(a, 2, 1, ("user", "Hi"), ("assistant", "What?")));
        await RecordAsync(org, Chat(b, 5, 2, ("user", "Hi"), ("assistant", "Hey")));
        await RecordAsync(org, Chat(a, null, 3, ("user", "Unrated"), ("assistant", "Yes")));

        var report = await ImportAsync(org, new ConversationImportRequest(AgentId: a, MinRating: 4, Tags: ["imported"]));

        report.Should().BeEquivalentTo(new ConversationImportReport(1, 1, 0, 0, []));
        var example = (await ExamplesAsync(org)).Should().ContainSingle().Subject;
        example.ConversationId.Should().Be(great);
        example.AgentId.Should().Be(a);
        example.Source.Should().Be(ExampleSource.Conversation);
        example.Tags.Should().Equal("imported");
        example.Example.Should().Be("""{"messages":[{"content":"Be kind.","role":"system"},{"content":"Hi","role":"user"},{"content":"Hello","role":"assistant"},{"content":"Bye","role":"user"},{"content":"Goodbye","role":"assistant"}]}""");
    }

    [Fact]
    public async Task Import_filters_by_date_range()
    {
        var org = await f.NewOrganizationAsync();
        var a = await f.NewAgentAsync(org);
        for (var day = 0; day < 5; day++)
        {
            await RecordAsync(org, Chat(a, 5, day, ("user", $"Q{day}"), ("assistant", $"A{day}")));
        }

        var report = await ImportAsync(org, new ConversationImportRequest(EndedFrom: Day.AddDays(1), EndedTo: Day.AddDays(3)));

        report.Created.Should().Be(2, "the range includes its start and excludes its end");
        (await ExamplesAsync(org)).Select(e => e.Example).Should().OnlyContain(e => e.Contains("Q1") || e.Contains("Q2"));
    }

    [Fact]
    public async Task Importing_twice_creates_no_duplicates()
    {
        var org = await f.NewOrganizationAsync();
        var a = await f.NewAgentAsync(org);
        await RecordAsync(org, Chat(a, 5, 0, ("user", "Hi"), ("assistant", "Hello")));
        await RecordAsync(org, Chat(a, 4, 1, ("user", "Q"), ("assistant", "A"), ("user", "Q2"), ("assistant", "A2")));

        (await ImportAsync(org, new ConversationImportRequest())).Created.Should().Be(2);
        var again = await ImportAsync(org, new ConversationImportRequest());

        again.Created.Should().Be(0);
        again.AlreadyImported.Should().Be(2);
        (await ExamplesAsync(org)).Should().HaveCount(2);
    }

    [Fact]
    public async Task Adjacent_pair_extraction_makes_one_example_per_answered_user_message_idempotently()
    {
        var org = await f.NewOrganizationAsync();
        var a = await f.NewAgentAsync(org);
        var id = await RecordAsync(org, Chat(a, 5, 0, ("system", "S"), ("user", "Q1"), ("assistant", "A1"), ("user", "Q2"), ("user", "Q3"), ("assistant", "A3")));

        var report = await ImportAsync(org, new ConversationImportRequest(AdjacentPairs: true));
        (await ImportAsync(org, new ConversationImportRequest(AdjacentPairs: true))).Created.Should().Be(0);

        report.Created.Should().Be(2);
        var examples = await ExamplesAsync(org);
        examples.Should().HaveCount(2).And.OnlyContain(e => e.ConversationId == id && e.Example.Contains("\"S\""));
        examples.Select(e => e.Example).Should().Contain(e => e.Contains("Q1") && e.Contains("A1") && !e.Contains("Q2"));
        examples.Select(e => e.Example).Should().Contain(e => e.Contains("Q3") && e.Contains("A3") && !e.Contains("Q2"));
    }

    [Fact]
    public async Task Conversation_without_assistant_answer_is_skipped_with_a_reason()
    {
        var org = await f.NewOrganizationAsync();
        var a = await f.NewAgentAsync(org);
        var id = await RecordAsync(org, Chat(a, 5, 0, ("user", "Hello?")));

        var report = await ImportAsync(org, new ConversationImportRequest());

        report.Skipped.Should().Be(1);
        report.Issues.Should().ContainSingle().Which.Path.Should().Be($"conversations[{id}].messages");
    }

    [Fact]
    public async Task Another_organizations_conversations_are_never_imported()
    {
        var mine = await f.NewOrganizationAsync();
        var theirs = await f.NewOrganizationAsync();
        var agent = await f.NewAgentAsync(theirs);
        await RecordAsync(theirs, Chat(agent, 5, 0, ("user", "Hi"), ("assistant", "Hello")));

        (await ImportAsync(mine, new ConversationImportRequest())).Conversations.Should().Be(0);
        var recordForeignAgent = () => RecordAsync(mine, Chat(agent, 5, 0, ("user", "Hi"), ("assistant", "Hello")));
        (await recordForeignAgent.Should().ThrowAsync<ProblemException>()).Which.Field.Should().Be("agentId");
    }

    [Fact]
    public async Task Recording_with_the_same_external_id_twice_stores_one_conversation()
    {
        var org = await f.NewOrganizationAsync();
        var a = await f.NewAgentAsync(org);
        var c = Chat(a, 5, 0, ("user", "Hi"), ("assistant", "Hello")) with { ExternalId = "run-42" };

        var first = await f.Conversations.InsertAsync(org, Guid.NewGuid(), c, Unlimited);
        var second = await f.Conversations.InsertAsync(org, Guid.NewGuid(), c, Unlimited);

        first.Created.Should().BeTrue();
        second.Should().Be(first with { Created = false });
        (await f.CountAsync("SELECT count(*) FROM conversation_messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.organization_id = @org", new { org }))
            .Should().Be(2);
    }

    [Fact]
    public async Task The_plans_conversation_quota_refuses_with_its_figures_and_a_repeat_of_a_stored_conversation_does_not_count()
    {
        var org = await f.NewOrganizationAsync();
        var a = await f.NewAgentAsync(org);
        var twoConversations = Unlimited with { Name = "two", MaxConversations = 2 };
        var first = Chat(a, 5, 0, ("user", "Hi"), ("assistant", "Hello")) with { ExternalId = "one" };

        await f.Conversations.InsertAsync(org, Guid.NewGuid(), first, twoConversations);
        (await f.Conversations.InsertAsync(org, Guid.NewGuid(), first, twoConversations)).Created.Should().BeFalse();
        await f.Conversations.InsertAsync(org, Guid.NewGuid(), Chat(a, 5, 1, ("user", "Q"), ("assistant", "A")), twoConversations);
        var third = () => f.Conversations.InsertAsync(org, Guid.NewGuid(), Chat(a, 5, 2, ("user", "Q3"), ("assistant", "A3")), twoConversations);

        var refused = (await third.Should().ThrowAsync<ProblemException>()).Which;
        refused.Kind.Should().Be(ProblemKind.PlanLimit);
        refused.Extensions["limit"].Should().Be("maxConversations");
        refused.Figures.Should().Equal(new Dictionary<string, long> { ["allowed"] = 2, ["current"] = 2, ["requested"] = 1 });
        (await f.CountAsync("SELECT count(*) FROM conversations WHERE organization_id = @org", new { org })).Should().Be(2, "the refused one left nothing");
    }

    [Fact]
    public async Task The_byte_quota_counts_what_a_conversation_stores()
    {
        var org = await f.NewOrganizationAsync();
        var a = await f.NewAgentAsync(org);
        var small = Chat(a, 5, 0, ("user", "Hi"), ("assistant", "Hello"));
        var size = ConversationSize.Of(small);
        var room = Unlimited with { Name = "tight", MaxConversationBytes = size + 10 };

        await f.Conversations.InsertAsync(org, Guid.NewGuid(), small, room);
        var second = () => f.Conversations.InsertAsync(org, Guid.NewGuid(), small, room);

        var refused = (await second.Should().ThrowAsync<ProblemException>()).Which;
        refused.Extensions["limit"].Should().Be("maxConversationBytes");
        refused.Figures.Should().Equal(new Dictionary<string, long> { ["allowed"] = size + 10, ["current"] = size, ["requested"] = size });
    }
}
