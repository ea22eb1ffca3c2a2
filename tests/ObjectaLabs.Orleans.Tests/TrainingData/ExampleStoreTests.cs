using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Plans;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Tests.TrainingData;

public sealed class ExampleStoreTests(TrainingDataFixture f) : IClassFixture<TrainingDataFixture>
{
    private static readonly PlanDefinition Small = new("small", "Small", true, 1, 3, false, ["*"]);

    [Fact]
    public async Task Stored_example_round_trips_in_canonical_form()
    {
        var org = await f.NewOrganizationAsync();
        var row = TrainingDataFixture.Row("""{ "messages": [ {"content":"Hi","role":"user"}, {"role":"assistant","content":"Hello","weight":1} ] }""", tags: ["greeting"]);
        var stored = await f.Examples.InsertAsync(org, row, ExampleLimits.None);

        stored.Example.Should().Be("""{"messages":[{"content":"Hi","role":"user"},{"content":"Hello","role":"assistant","weight":1}]}""");
        stored.Tags.Should().Equal("greeting");
        stored.Source.Should().Be(ExampleSource.Manual);
        stored.IsValidated.Should().BeFalse();
        (await f.Examples.GetAsync(org, stored.Id)).Should().BeEquivalentTo(stored);
    }

    [Fact]
    public async Task Another_organizations_examples_are_invisible()
    {
        var mine = await f.NewOrganizationAsync();
        var theirs = await f.NewOrganizationAsync();
        var stored = await f.Examples.InsertAsync(theirs, TrainingDataFixture.Row(TrainingDataFixture.Chat("secret", "theirs")), ExampleLimits.None);

        (await f.Examples.GetAsync(mine, stored.Id)).Should().BeNull();
        (await f.Examples.ListAsync(mine, new ExampleListRequest(new ExampleFilter()))).Items.Should().BeEmpty();
        (await f.Examples.DeleteAsync(mine, stored.Id)).Should().BeFalse();
        (await f.Examples.ValidateAsync(mine, [stored.Id], "me", 1m, DateTimeOffset.UtcNow)).Should().BeEmpty();
        (await f.Examples.UpdateAsync(mine, stored.Id, null, ["x"], null, DateTimeOffset.UtcNow)).Should().BeNull();
        (await f.Examples.GetAsync(theirs, stored.Id))!.Tags.Should().BeEmpty("the other organization's edit must not land");
        // The same content is not a duplicate across organizations.
        await f.Examples.InsertAsync(mine, TrainingDataFixture.Row(TrainingDataFixture.Chat("secret", "theirs")), ExampleLimits.None);
    }

    [Fact]
    public async Task Storing_an_identical_example_twice_is_a_conflict()
    {
        var org = await f.NewOrganizationAsync();
        await f.Examples.InsertAsync(org, TrainingDataFixture.Row(TrainingDataFixture.Chat("a", "b")), ExampleLimits.None);
        var again = () => f.Examples.InsertAsync(org, TrainingDataFixture.Row("""{"messages":[{"role":"user","content":"a"},  {"content":"b","role":"assistant"}]}"""), ExampleLimits.None);
        (await again.Should().ThrowAsync<ProblemException>()).Which.Kind.Should().Be(ProblemKind.Conflict);
    }

    [Fact]
    public async Task Editing_content_clears_validation_but_editing_tags_does_not()
    {
        var org = await f.NewOrganizationAsync();
        var stored = await f.Examples.InsertAsync(org, TrainingDataFixture.Row(TrainingDataFixture.Chat("q", "a")), ExampleLimits.None);
        await f.Examples.ValidateAsync(org, [stored.Id], "reviewer", 0.8m, DateTimeOffset.UtcNow);

        var retagged = await f.Examples.UpdateAsync(org, stored.Id, null, ["billing"], "checked", DateTimeOffset.UtcNow);
        retagged!.IsValidated.Should().BeTrue();
        retagged.QualityScore.Should().Be(0.8m);
        retagged.Tags.Should().Equal("billing");

        var edited = await f.Examples.UpdateAsync(org, stored.Id, CheckedExample.Check(TrainingDataFixture.Chat("q", "better a"), 1, [], null), null, null, DateTimeOffset.UtcNow);
        edited!.IsValidated.Should().BeFalse();
        edited.ValidatedBy.Should().BeNull();
        edited.QualityScore.Should().BeNull();
        edited.Example.Should().Contain("better a");
        edited.Tags.Should().Equal("billing");
    }

    [Fact]
    public async Task Bulk_validate_marks_only_the_given_examples_and_counts_follow()
    {
        var org = await f.NewOrganizationAsync();
        var rows = Enumerable.Range(0, 5).Select(i => TrainingDataFixture.Row(TrainingDataFixture.Chat($"q{i}", $"a{i}"))).ToList();
        (await f.Examples.StoreAsync(org, rows, ExampleLimits.None)).Stored.Should().Be(5);

        (await f.Examples.ValidateAsync(org, [rows[0].Id, rows[1].Id, Guid.NewGuid()], "lead", 1m, DateTimeOffset.UtcNow)).Should().BeEquivalentTo([rows[0].Id, rows[1].Id]);

        var page = await f.Examples.ListAsync(org, new ExampleListRequest(new ExampleFilter(ValidationFilter.Pending)));
        page.Counts.Should().Be(new ExampleCounts(2, 3));
        page.Items.Select(i => i.Id).Should().BeEquivalentTo(rows.Skip(2).Select(r => r.Id));
    }

    [Fact]
    public async Task Delete_removes_the_example()
    {
        var org = await f.NewOrganizationAsync();
        var stored = await f.Examples.InsertAsync(org, TrainingDataFixture.Row(TrainingDataFixture.Chat("q", "a")), ExampleLimits.None);
        (await f.Examples.DeleteAsync(org, stored.Id)).Should().BeTrue();
        (await f.Examples.GetAsync(org, stored.Id)).Should().BeNull();
    }

    [Fact]
    public async Task List_filters_by_agent_source_tag_and_text()
    {
        var org = await f.NewOrganizationAsync();
        var agent = await f.NewAgentAsync(org);
        await f.Examples.StoreAsync(org, [
            TrainingDataFixture.Row(TrainingDataFixture.Chat("How do I reset my password?", "Click 'Forgot password'."), agent, ["account"]),
            TrainingDataFixture.Row(TrainingDataFixture.Chat("Refund 100% please", "Sure."), null, ["billing"]),
            TrainingDataFixture.Row(TrainingDataFixture.Chat("Hello", "Hi"), agent, ["billing"]),
        ], ExampleLimits.None);

        async Task<IEnumerable<string>> Texts(ExampleFilter filter) =>
            (await f.Examples.ListAsync(org, new ExampleListRequest(filter))).Items.Select(i => i.Example);

        (await Texts(new ExampleFilter(AgentId: agent))).Should().HaveCount(2);
        (await Texts(new ExampleFilter(Tag: "billing"))).Should().HaveCount(2);
        (await Texts(new ExampleFilter(Search: "PASSWORD"))).Should().ContainSingle().Which.Should().Contain("reset");
        (await Texts(new ExampleFilter(Search: "100%"))).Should().ContainSingle().Which.Should().Contain("Refund");
        (await Texts(new ExampleFilter(Search: "%"))).Should().ContainSingle("'%' is matched literally");
        (await Texts(new ExampleFilter(Source: ExampleSource.Upload))).Should().BeEmpty();
        (await Texts(new ExampleFilter(Source: ExampleSource.Manual, AgentId: agent, Tag: "billing"))).Should().ContainSingle();
    }

    [Theory]
    [InlineData(ExampleSort.Date)]
    [InlineData(ExampleSort.Quality)]
    [InlineData(ExampleSort.Source)]
    public async Task Cursor_pagination_visits_every_example_once_in_sort_order(ExampleSort sort)
    {
        var org = await f.NewOrganizationAsync();
        var start = DateTimeOffset.UtcNow.AddHours(-1);
        var rows = Enumerable.Range(0, 23).Select(i => TrainingDataFixture.Row(TrainingDataFixture.Chat($"q{i}", $"a{i}"),
            validated: i % 3 != 0, at: start.AddSeconds(i / 2), quality: (i % 5) / 4m)).ToList();
        await f.Examples.StoreAsync(org, rows, ExampleLimits.None);

        var seen = new List<TrainingExample>();
        string? cursor = null;
        do
        {
            var page = await f.Examples.ListAsync(org, new ExampleListRequest(new ExampleFilter(), sort, cursor, Limit: 5));
            page.Items.Count.Should().BeLessThanOrEqualTo(5);
            seen.AddRange(page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        seen.Select(s => s.Id).Should().OnlyHaveUniqueItems().And.BeEquivalentTo(rows.Select(r => r.Id));
        switch (sort)
        {
            case ExampleSort.Date:
                seen.Select(s => s.CreatedAt).Should().BeInDescendingOrder();
                break;
            case ExampleSort.Quality:
                seen.Select(s => s.QualityScore ?? -1).Should().BeInDescendingOrder();
                break;
        }
    }

    [Fact]
    public async Task Plan_limit_refuses_a_store_that_would_exceed_it_and_stores_nothing()
    {
        var org = await f.NewOrganizationAsync(Small.Name);
        await f.Examples.StoreAsync(org, [TrainingDataFixture.Row(TrainingDataFixture.Chat("1", "1")), TrainingDataFixture.Row(TrainingDataFixture.Chat("2", "2"))], ExampleLimits.For(Small));

        var tooMany = () => f.Examples.StoreAsync(org, [TrainingDataFixture.Row(TrainingDataFixture.Chat("3", "3")), TrainingDataFixture.Row(TrainingDataFixture.Chat("4", "4"))], ExampleLimits.For(Small));

        var problem = (await tooMany.Should().ThrowAsync<ProblemException>()).Which;
        problem.Kind.Should().Be(ProblemKind.PlanLimit);
        problem.Figures.Should().Equal(new Dictionary<string, long> { ["allowed"] = 3, ["current"] = 2, ["requested"] = 2 });
        (await f.CountAsync("SELECT count(*) FROM training_examples WHERE organization_id = @org", new { org })).Should().Be(2);
        // Duplicates do not count against the limit: storing a known example and one new one fits.
        (await f.Examples.StoreAsync(org, [TrainingDataFixture.Row(TrainingDataFixture.Chat("1", "1")), TrainingDataFixture.Row(TrainingDataFixture.Chat("3", "3"))], ExampleLimits.For(Small)))
            .Stored.Should().Be(1);
    }

    [Theory]
    [InlineData("not-a-cursor!")]
    [InlineData("YWJjfDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw")] // "abc|000…": decodes, but its key is no timestamp
    public async Task A_cursor_this_list_did_not_issue_is_a_validation_problem(string cursor)
    {
        var org = await f.NewOrganizationAsync();
        var list = () => f.Examples.ListAsync(org, new ExampleListRequest(new ExampleFilter(), ExampleSort.Date, cursor));
        (await list.Should().ThrowAsync<ProblemException>()).Which.Field.Should().Be("cursor");
    }
}
