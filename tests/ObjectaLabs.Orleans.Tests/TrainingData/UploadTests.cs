using System.Text;
using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Plans;
using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Uploads;

namespace ObjectaLabs.Orleans.Tests.TrainingData;

public sealed class UploadTests(TrainingDataFixture f) : IClassFixture<TrainingDataFixture>
{
    private const string Bad = """{"messages":[{"role":"user","content":"no answer"}]}""";

    private Task<UploadSession> StartAsync(Guid org, UploadOptions? options = null, UploadSettings? settings = null) =>
        UploadSession.StartAsync(f.Uploads.DataSource, TrainingDataFixture.Models, TrainingDataFixture.Tokenizers, org, Guid.NewGuid(),
            options ?? new UploadOptions(), settings ?? new UploadSettings(), DateTimeOffset.UtcNow);

    private static string Jsonl(params string[] lines) => string.Join("\n", lines) + "\n";

    /// <summary>Runs a whole upload the way the API does: the file streamed in small chunks.</summary>
    private async Task<(UploadReport Report, List<ExampleIssue> ChunkIssues)> UploadAsync(Guid org, string jsonl, UploadOptions? options = null, int chunkBytes = 128)
    {
        var session = await StartAsync(org, options);
        var issues = new List<ExampleIssue>();
        await foreach (var chunk in JsonlChunker.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(jsonl)), chunkBytes))
        {
            issues.AddRange((await session.AppendAsync(chunk)).Issues);
        }
        return (await session.CompleteAsync(ExampleLimits.None), issues);
    }

    private Task<long> StoredAsync(Guid org) => f.CountAsync("SELECT count(*) FROM training_examples WHERE organization_id = @org", new { org });

    [Fact]
    public async Task Upload_stores_every_valid_line_and_counts_tokens()
    {
        var org = await f.NewOrganizationAsync();
        var (report, issues) = await UploadAsync(org, Jsonl(TrainingDataFixture.Chat("a", "b"), TrainingDataFixture.Chat("c", "d"), TrainingDataFixture.Chat("e", "f")));

        issues.Should().BeEmpty();
        report.Stored.Should().BeTrue();
        report.Lines.Should().Be(3);
        report.StoredExamples.Should().Be(3);
        report.TokensApproximate.Should().BeFalse();
        // Cookbook accounting per line: 2 messages × (3 + role + content) + 3 priming; every role and one-letter text is 1 token.
        report.TotalTokens.Should().Be(3 * (2 * (3 + 1 + 1) + 3));
        (await StoredAsync(org)).Should().Be(3);
        (await f.CountAsync("SELECT count(*) FROM training_examples WHERE organization_id = @org AND source = 'upload' AND upload_id = @id", new { org, id = report.UploadId }))
            .Should().Be(3);
    }

    [Fact]
    public async Task Upload_all_or_nothing_stores_nothing_when_one_line_is_bad()
    {
        var org = await f.NewOrganizationAsync();
        var lines = Enumerable.Range(0, 20).Select(i => TrainingDataFixture.Chat($"q{i}", $"a{i}")).ToList();
        lines.Insert(13, Bad);

        var (report, issues) = await UploadAsync(org, Jsonl([.. lines]));

        report.Stored.Should().BeFalse();
        report.StoredExamples.Should().Be(0);
        report.InvalidLines.Should().Be(1);
        report.ValidLines.Should().Be(20);
        issues.Should().ContainSingle().Which.Should().Be(new ExampleIssue(14, "$.messages", "no_assistant_message", issues[0].Reason));
        report.Issues.Should().BeEquivalentTo(issues);
        (await StoredAsync(org)).Should().Be(0);
    }

    [Fact]
    public async Task Upload_abandoned_mid_way_leaves_nothing_behind()
    {
        var org = await f.NewOrganizationAsync();
        var session = await StartAsync(org);
        var staged = await session.AppendAsync(new UploadChunk(1, Encoding.UTF8.GetBytes(Jsonl(TrainingDataFixture.Chat("a", "b"), TrainingDataFixture.Chat("c", "d")))));
        staged.ValidLines.Should().Be(2);

        // As when the grain is deactivated: the session goes away without completing.
        await session.DisposeAsync();

        (await StoredAsync(org)).Should().Be(0);
    }

    [Fact]
    public async Task Upload_whose_connection_dies_mid_way_leaves_nothing_behind()
    {
        var org = await f.NewOrganizationAsync();
        var session = await StartAsync(org);
        await session.AppendAsync(new UploadChunk(1, Encoding.UTF8.GetBytes(Jsonl(TrainingDataFixture.Chat("a", "b"), TrainingDataFixture.Chat("c", "d")))));

        // As when the silo process dies: the server loses the session that held the upload's transaction.
        (await f.CountAsync("""
            SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'
            """)).Should().Be(1);

        var complete = () => session.CompleteAsync(ExampleLimits.None);
        // The server ended the session (57P01, terminating connection due to administrator command).
        (await complete.Should().ThrowAsync<Npgsql.NpgsqlException>()).Which.Should().Match<Npgsql.NpgsqlException>(e =>
            (e is Npgsql.PostgresException && ((Npgsql.PostgresException)e).SqlState == "57P01") || e.InnerException is System.IO.IOException || e.InnerException is System.IO.EndOfStreamException);
        await session.DisposeAsync();
        (await StoredAsync(org)).Should().Be(0);
    }

    [Fact]
    public async Task Upload_with_store_valid_option_stores_exactly_the_valid_lines()
    {
        var org = await f.NewOrganizationAsync();
        var (report, issues) = await UploadAsync(org, Jsonl(
            TrainingDataFixture.Chat("keep 1", "x"), "not json", Bad, TrainingDataFixture.Chat("keep 2", "y"), "", """{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a","weight":3}]}"""),
            new UploadOptions(UploadMode.StoreValid));

        report.Stored.Should().BeTrue();
        report.StoredExamples.Should().Be(2);
        report.Lines.Should().Be(6);
        report.InvalidLines.Should().Be(4, "the blank line between examples is reported too");
        issues.Select(i => (i.Line, i.Path, i.Code)).Should().Equal(
            (2L, "$", "invalid_json"), (3L, "$.messages", "no_assistant_message"), (5L, "$", "blank_line"), (6L, "$.messages[1].weight", "invalid_weight"));
        var texts = (await f.Examples.ListAsync(org, new ExampleListRequest(new ExampleFilter()))).Items.Select(i => i.Example);
        texts.Should().HaveCount(2).And.OnlyContain(t => t.Contains("keep"));
    }

    [Fact]
    public async Task Upload_reports_duplicates_in_the_file_and_of_stored_examples_and_stores_each_once()
    {
        var org = await f.NewOrganizationAsync();
        await f.Examples.InsertAsync(org, TrainingDataFixture.Row(TrainingDataFixture.Chat("known", "answer")), ExampleLimits.None);

        var (report, issues) = await UploadAsync(org, Jsonl(
            TrainingDataFixture.Chat("new", "answer"),
            """{"messages":[{"content":"known","role":"user"},{"content":"answer","role":"assistant"}]}""",
            TrainingDataFixture.Chat("new", "answer")));

        report.Stored.Should().BeTrue("duplicates are skipped, not errors");
        report.DuplicateLines.Should().Be(2);
        report.StoredExamples.Should().Be(1);
        issues.Should().ContainSingle(i => i.Line == 3 && i.Code == "duplicate" && i.Severity == IssueSeverity.Duplicate);
        report.Issues.Should().Contain(i => i.Line == 2 && i.Code == "duplicate");
        (await StoredAsync(org)).Should().Be(2);
    }

    [Fact]
    public async Task Dry_run_checks_and_counts_but_stores_nothing()
    {
        var org = await f.NewOrganizationAsync();
        var (report, _) = await UploadAsync(org, Jsonl(TrainingDataFixture.Chat("a", "b")), new UploadOptions(DryRun: true, BaseModel: "together/Qwen/Qwen2.5-7B-Instruct"));
        report.Stored.Should().BeFalse();
        report.ValidLines.Should().Be(1);
        report.TokensApproximate.Should().BeTrue();
        report.Summary.Should().Contain("approximate");
        (await StoredAsync(org)).Should().Be(0);
    }

    [Fact]
    public async Task Upload_over_the_plan_limit_stores_nothing()
    {
        var org = await f.NewOrganizationAsync();
        var plan = new PlanDefinition("tiny", "Tiny", true, 1, 2, false, ["*"]);
        var session = await StartAsync(org);
        await session.AppendAsync(new UploadChunk(1, Encoding.UTF8.GetBytes(Jsonl(TrainingDataFixture.Chat("1", "1"), TrainingDataFixture.Chat("2", "2"), TrainingDataFixture.Chat("3", "3")))));

        var complete = () => session.CompleteAsync(ExampleLimits.For(plan));

        (await complete.Should().ThrowAsync<ProblemException>()).Which.Kind.Should().Be(ProblemKind.PlanLimit);
        (await StoredAsync(org)).Should().Be(0);
    }

    [Fact]
    public async Task Upload_flags_examples_over_the_models_training_token_limit()
    {
        var org = await f.NewOrganizationAsync();
        var longText = string.Join(' ', Enumerable.Repeat("word", 9000));
        var (report, issues) = await UploadAsync(org, Jsonl(TrainingDataFixture.Chat(longText, "ok"), TrainingDataFixture.Chat("short", "ok")),
            new UploadOptions(BaseModel: "sandbox/sandbox-small"), chunkBytes: 1 << 16);

        report.OverTokenLimit.Should().Be(1);
        issues.Should().ContainSingle(i => i.Line == 1 && i.Code == "over_token_limit" && i.Severity == IssueSeverity.Warning);
        report.StoredExamples.Should().Be(2, "over-long examples are truncated by the provider, not refused");
    }

    [Fact]
    public async Task Chunker_cuts_a_stream_into_whole_lines_with_correct_line_numbers()
    {
        var lines = Enumerable.Range(1, 1000).Select(i => $"{{\"n\":{i}}}").ToList();
        var text = string.Join("\n", lines); // no trailing newline
        var seen = new List<string>();
        await foreach (var chunk in JsonlChunker.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(text)), chunkBytes: 100))
        {
            var chunkLines = Encoding.UTF8.GetString(chunk.Data).TrimEnd('\n').Split('\n');
            chunkLines[0].Should().Be($"{{\"n\":{chunk.FirstLine}}}");
            chunk.Data.Length.Should().BeLessThan(200);
            seen.AddRange(chunkLines);
        }
        seen.Should().Equal(lines);
    }
}
