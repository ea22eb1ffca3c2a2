using System.Text;
using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Plans;
using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Tests.Infrastructure;
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
    private async Task<(UploadReport Report, List<ExampleIssue> ChunkIssues)> UploadAsync(Guid org, string jsonl, UploadOptions? options = null, int chunkBytes = 128, UploadSettings? settings = null)
    {
        var session = await StartAsync(org, options, settings);
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
        await complete.Should().ThrowAsync<Npgsql.NpgsqlException>()
            .Where(e => (e is Npgsql.PostgresException && ((Npgsql.PostgresException)e).SqlState == "57P01") || e.InnerException is System.IO.IOException);
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
    public async Task Upload_naming_another_organizations_agent_is_refused_on_the_agent()
    {
        var org = await f.NewOrganizationAsync();
        var stranger = await f.NewAgentAsync(await f.NewOrganizationAsync());
        var upload = () => UploadAsync(org, Jsonl(TrainingDataFixture.Chat("a", "b")), new UploadOptions(AgentId: stranger));

        var problem = (await upload.Should().ThrowAsync<ProblemException>()).Which;
        problem.Field.Should().Be("agentId");
        problem.Message.Should().Contain(stranger.ToString());
    }

    [Fact]
    public async Task Upload_for_an_organization_without_a_row_does_not_blame_an_agent_it_never_named()
    {
        // The benchmark once died here on "Agent '' does not belong": a dry run and an upload both name the organization.
        var dryRun = () => UploadAsync(Guid.NewGuid(), Jsonl(TrainingDataFixture.Chat("a", "b")), new UploadOptions(DryRun: true));
        var upload = () => UploadAsync(Guid.NewGuid(), Jsonl(TrainingDataFixture.Chat("a", "b")));

        (await dryRun.Should().ThrowAsync<ProblemException>()).Which.Kind.Should().Be(ProblemKind.NotFound);
        (await upload.Should().ThrowAsync<Npgsql.PostgresException>()).Which.SqlState.Should().Be(Npgsql.PostgresErrorCodes.ForeignKeyViolation);
    }

    [Fact]
    public async Task A_dry_run_naming_another_organizations_agent_is_refused_like_the_upload()
    {
        var org = await f.NewOrganizationAsync();
        var stranger = await f.NewAgentAsync(await f.NewOrganizationAsync());
        var dryRun = () => UploadAsync(org, Jsonl(TrainingDataFixture.Chat("a", "b")), new UploadOptions(AgentId: stranger, DryRun: true));

        (await dryRun.Should().ThrowAsync<ProblemException>()).Which.Field.Should().Be("agentId");
        (await UploadAsync(org, Jsonl(TrainingDataFixture.Chat("a", "b")), new UploadOptions(AgentId: await f.NewAgentAsync(org), DryRun: true)))
            .Report.NewExamples.Should().Be(1);
    }

    [Fact]
    public async Task Upload_over_the_plan_limit_stores_nothing()
    {
        var org = await f.NewOrganizationAsync("tiny");
        var plan = new PlanDefinition("tiny", "Tiny", true, 1, 2, false, ["*"]);
        var session = await StartAsync(org);
        await session.AppendAsync(new UploadChunk(1, Encoding.UTF8.GetBytes(Jsonl(TrainingDataFixture.Chat("1", "1"), TrainingDataFixture.Chat("2", "2"), TrainingDataFixture.Chat("3", "3")))));

        var complete = () => session.CompleteAsync(ExampleLimits.For(plan));

        (await complete.Should().ThrowAsync<ProblemException>()).Which.Kind.Should().Be(ProblemKind.PlanLimit);
        (await StoredAsync(org)).Should().Be(0);
    }

    [Fact]
    public async Task Upload_stops_reading_once_it_holds_more_new_examples_than_the_plan_could_still_store()
    {
        var org = await f.NewOrganizationAsync();
        await f.Examples.InsertAsync(org, TrainingDataFixture.Row(TrainingDataFixture.Chat("stored", "already")), ExampleLimits.None);
        var plan = new PlanDefinition("three", "Three", true, 1, 3, false, ["*"]);
        var session = await UploadSession.StartAsync(f.Uploads.DataSource, TrainingDataFixture.Models, TrainingDataFixture.Tokenizers, org, Guid.NewGuid(),
            new UploadOptions(), new UploadSettings(), DateTimeOffset.UtcNow, plan: plan);

        // Already stored examples and two new ones fit (1 stored + 2 new = 3): no false refusal for a re-sent file.
        await session.AppendAsync(new UploadChunk(1, Encoding.UTF8.GetBytes(Jsonl(TrainingDataFixture.Chat("stored", "already"), TrainingDataFixture.Chat("n1", "a"), TrainingDataFixture.Chat("n2", "a")))));
        var more = () => session.AppendAsync(new UploadChunk(4, Encoding.UTF8.GetBytes(Jsonl(TrainingDataFixture.Chat("n3", "a"), TrainingDataFixture.Chat("n4", "a")))));

        var problem = (await more.Should().ThrowAsync<ProblemException>()).Which;
        problem.Kind.Should().Be(ProblemKind.PlanLimit);
        problem.Figures.Should().Equal(new Dictionary<string, long> { ["allowed"] = 3, ["current"] = 1, ["requested"] = 4 });
        problem.Message.Should().Contain("line 5");
        (await StoredAsync(org)).Should().Be(1);
    }

    [Fact]
    public async Task Upload_stops_reading_past_the_invalid_line_cap_in_either_mode()
    {
        var org = await f.NewOrganizationAsync();
        var settings = new UploadSettings { MaxInvalidLines = 3 };
        var session = await StartAsync(org, new UploadOptions(Mode: UploadMode.StoreValid), settings);
        await session.AppendAsync(new UploadChunk(1, Encoding.UTF8.GetBytes(Jsonl(Bad, Bad, TrainingDataFixture.Chat("ok", "ok"), Bad))));

        var more = () => session.AppendAsync(new UploadChunk(5, Encoding.UTF8.GetBytes(Jsonl(Bad))));

        var problem = (await more.Should().ThrowAsync<ProblemException>()).Which;
        problem.Title.Should().Be("Too many invalid lines");
        problem.Figures["invalidLines"].Should().Be(4);
        (await StoredAsync(org)).Should().Be(0);
    }

    [Fact]
    public async Task An_organizations_uploads_on_one_silo_check_one_chunk_at_a_time_and_never_hold_up_another_organization()
    {
        var fairness = new UploadFairness();
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());

        var first = await fairness.EnterAsync(a);
        var secondOfA = fairness.EnterAsync(a);
        var otherOrganization = fairness.EnterAsync(b);

        (await Task.WhenAny(secondOfA, Task.Delay(200))).Should().NotBe(secondOfA, "the organization's other upload waits for its turn");
        (await otherOrganization).Dispose();
        first.Dispose();
        (await secondOfA).Dispose();
        fairness.ActiveOrganizations.Should().Be(0, "no gate is kept for an organization with nothing in flight");
        new UploadSettings { MaxParallelismPerUpload = 3 }.EffectiveParallelism.Should().Be(3, "a configured bound is kept");
        new UploadSettings().EffectiveParallelism.Should().BeInRange(1, Math.Max(1, Environment.ProcessorCount - 1),
            "by default an upload never takes every core of a machine with more than one");
    }

    [Fact]
    public async Task A_plan_changed_while_an_upload_ran_refuses_its_completion_and_stores_nothing()
    {
        var org = await f.NewOrganizationAsync("business");
        var business = new PlanDefinition("business", "Business", true, 3, 2000, true, ["*"]);
        var session = await StartAsync(org);
        await session.AppendAsync(new UploadChunk(1, Encoding.UTF8.GetBytes(Jsonl(TrainingDataFixture.Chat("1", "1"), TrainingDataFixture.Chat("2", "2")))));
        // The downgrade commits its row while the upload runs; the upload read 'business' when it started.
        await using (var connection = await f.Database.DataSource.OpenConnectionAsync())
        {
            await Dapper.SqlMapper.ExecuteAsync(connection, "UPDATE organizations SET plan = 'professional' WHERE id = @org", new { org });
        }

        var complete = () => session.CompleteAsync(ExampleLimits.For(business));

        (await complete.Should().ThrowAsync<ProblemException>()).Which.Message.Should().Contain("plan changed from 'business' to 'professional'");
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

    private static string Chat(int i) => TrainingDataFixture.Chat($"q{i}", $"a{i}");

    private async Task<(UploadReport Report, List<ExampleIssue> ChunkIssues)> UploadBytesAsync(Guid org, byte[] file, UploadOptions? options = null, UploadSettings? settings = null)
    {
        var session = await StartAsync(org, options, settings);
        var issues = new List<ExampleIssue>();
        await foreach (var chunk in JsonlChunker.ReadAsync(new MemoryStream(file), 128, (settings ?? new UploadSettings()).MaxLineBytes))
        {
            issues.AddRange((await session.AppendAsync(chunk)).Issues);
        }
        return (await session.CompleteAsync(ExampleLimits.None), issues);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \t")]
    [InlineData("\r")]
    public async Task Upload_reports_a_blank_or_whitespace_only_line_between_examples_with_its_number(string blank)
    {
        var org = await f.NewOrganizationAsync();
        var (report, _) = await UploadAsync(org, $"{Chat(1)}\n{Chat(2)}\n{blank}\n{Chat(3)}\n");

        report.Stored.Should().BeFalse();
        report.Issues.Should().ContainSingle().Which.Should().Match<ExampleIssue>(i => i.Line == 3 && i.Code == "blank_line" && i.Reason.Contains("Line 3"));
        (await StoredAsync(org)).Should().Be(0);
    }

    [Fact]
    public async Task Upload_ignores_blank_lines_after_the_last_example_like_the_final_newline()
    {
        var org = await f.NewOrganizationAsync();
        var (report, issues) = await UploadAsync(org, $"{Chat(1)}\r\n{Chat(2)}\r\n\r\n  \n\n");

        issues.Should().BeEmpty();
        report.Stored.Should().BeTrue();
        report.Lines.Should().Be(2);
        report.StoredExamples.Should().Be(2);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData(" \n\t\n\r\n")]
    [InlineData("\uFEFF")]
    public async Task Upload_of_an_empty_file_is_refused_as_a_whole(string file)
    {
        var org = await f.NewOrganizationAsync();
        foreach (var dryRun in new[] { false, true })
        {
            var upload = () => UploadAsync(org, file, new UploadOptions(DryRun: dryRun));

            var problem = (await upload.Should().ThrowAsync<ProblemException>()).Which;
            problem.Kind.Should().Be(ProblemKind.Validation);
            problem.Field.Should().Be("body");
        }
    }

    [Fact]
    public async Task Upload_skips_a_byte_order_mark_at_the_start_of_the_file()
    {
        var org = await f.NewOrganizationAsync();
        var (report, issues) = await UploadBytesAsync(org, [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(Jsonl(Chat(1), Chat(2)))]);

        issues.Should().BeEmpty();
        report.StoredExamples.Should().Be(2);
    }

    [Fact]
    public async Task Upload_refuses_a_line_over_the_cap_with_its_number_and_keeps_counting_lines()
    {
        var org = await f.NewOrganizationAsync();
        var settings = new UploadSettings { MaxLineBytes = 2048 };
        var huge = TrainingDataFixture.Chat(new string('x', 10_000), "a");

        var (report, issues) = await UploadBytesAsync(org, Encoding.UTF8.GetBytes(Jsonl(Chat(1), huge, Chat(3), "bad")), new UploadOptions(UploadMode.StoreValid), settings);

        issues.Select(i => (i.Line, i.Code)).Should().Equal((2L, "line_too_long"), (4L, "invalid_json"));
        issues[0].Reason.Should().Contain("Line 2").And.Contain("2048");
        report.Lines.Should().Be(4);
        report.StoredExamples.Should().Be(2);
    }

    [Fact]
    public async Task Chunker_drops_an_endless_line_at_the_cap_without_reading_it_into_memory()
    {
        // 64 MiB of one line, generated as it is read: the marker must come out right after the cap.
        var stream = new EndlessLine(64 << 20);
        var chunks = new List<(UploadChunk Chunk, long ReadSoFar)>();
        await foreach (var chunk in JsonlChunker.ReadAsync(stream, chunkBytes: 4096, maxLineBytes: 1 << 20))
        {
            chunks.Add((chunk, stream.Position));
        }

        chunks.Should().ContainSingle();
        chunks[0].Chunk.Should().Match<UploadChunk>(c => c.LineTooLong && c.FirstLine == 1 && c.Data.Length == 0);
        chunks[0].ReadSoFar.Should().BeLessThan((1 << 20) + (128 << 10), "the line is refused once it passes the cap, not at the end of the stream");
    }

    [Fact]
    public async Task Chunker_numbers_lines_after_an_overlong_one_and_sends_lines_up_to_the_cap()
    {
        var lines = new[] { "{\"n\":1}", new string('y', 5000), "{\"n\":3}", new string('z', 1000), "{\"n\":5}" };
        var chunks = new List<UploadChunk>();
        await foreach (var chunk in JsonlChunker.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(string.Join("\n", lines))), chunkBytes: 64, maxLineBytes: 1000))
        {
            chunks.Add(chunk);
        }

        chunks.Where(c => c.LineTooLong).Select(c => c.FirstLine).Should().Equal(2L);
        var sent = chunks.Where(c => !c.LineTooLong).SelectMany(c => Encoding.UTF8.GetString(c.Data).TrimEnd('\n').Split('\n').Select((l, i) => (Line: c.FirstLine + i, Text: l))).ToList();
        sent.Should().Equal((1L, lines[0]), (3L, lines[2]), (4L, lines[3]), (5L, lines[4]));
    }

    [Fact]
    public async Task Upload_lists_the_first_issues_and_counts_all_of_them_per_code()
    {
        var org = await f.NewOrganizationAsync();
        var lines = Enumerable.Range(0, 300).Select(_ => Bad).Concat(Enumerable.Range(0, 50).Select(_ => "[1]")).ToArray();

        var (report, chunkIssues) = await UploadAsync(org, Jsonl(lines), settings: new UploadSettings { MaxReportedIssues = 10 });

        report.Issues.Should().HaveCount(10);
        report.IssuesTruncated.Should().BeTrue();
        report.IssueCounts.Should().Equal(new Dictionary<string, long> { ["no_assistant_message"] = 300, ["not_object"] = 50 });
        report.InvalidLines.Should().Be(350);
        chunkIssues.Should().HaveCountLessThanOrEqualTo(10 * 350, "each chunk lists at most the cap too");
    }

    [Fact]
    public async Task Upload_of_one_long_line_full_of_errors_keeps_its_answer_small()
    {
        var org = await f.NewOrganizationAsync();
        var keys = string.Join(",", Enumerable.Range(0, 50_000).Select(i => $"\"k{i}\":1"));
        var line = $"{{{keys},\"messages\":[{{\"role\":\"user\",\"content\":\"q\"}},{{\"role\":\"assistant\",\"content\":\"a\"}}]}}";

        var (report, _) = await UploadAsync(org, Jsonl(line), chunkBytes: 1 << 20);

        report.Issues.Should().HaveCount(100);
        report.IssueCounts["unknown_key"].Should().Be(UploadSession.MaxIssuesPerLine);
        report.IssueCounts["too_many_issues"].Should().Be(1);
    }

    [Fact]
    public async Task Dry_run_answers_what_the_upload_would_duplicates_against_stored_included_and_stores_nothing()
    {
        var org = await f.NewOrganizationAsync();
        await f.Examples.InsertAsync(org, TrainingDataFixture.Row(Chat(1)), ExampleLimits.None);
        var file = Jsonl(Chat(1), Chat(2), Chat(3), Chat(2));

        var (dry, _) = await UploadAsync(org, file, new UploadOptions(DryRun: true));
        (await StoredAsync(org)).Should().Be(1, "a dry run stores nothing");
        var (real, _) = await UploadAsync(org, file);

        dry.DryRun.Should().BeTrue();
        dry.Stored.Should().BeFalse();
        dry.StoredExamples.Should().Be(0);
        dry.NewExamples.Should().Be(2);
        real.NewExamples.Should().Be(2);
        real.StoredExamples.Should().Be(2);
        dry.Should().BeEquivalentTo(real, o => o.Excluding(r => r.UploadId).Excluding(r => r.Stored).Excluding(r => r.StoredExamples)
            .Excluding(r => r.DryRun).Excluding(r => r.Summary));
        dry.DuplicateLines.Should().Be(2, "line 1 is stored already and line 4 repeats line 2");
        (await StoredAsync(org)).Should().Be(3);
    }

    [Fact]
    public async Task Dry_run_over_the_plan_limit_is_refused_like_the_upload()
    {
        var org = await f.NewOrganizationAsync("tiny");
        var plan = new PlanDefinition("tiny", "Tiny", true, 1, 2, false, ["*"]);
        var session = await StartAsync(org, new UploadOptions(DryRun: true));
        await session.AppendAsync(new UploadChunk(1, Encoding.UTF8.GetBytes(Jsonl(Chat(1), Chat(2), Chat(3)))));

        var complete = () => session.CompleteAsync(ExampleLimits.For(plan));

        (await complete.Should().ThrowAsync<ProblemException>()).Which.Kind.Should().Be(ProblemKind.PlanLimit);
    }

    [Fact]
    public async Task An_organization_runs_at_most_its_concurrent_uploads_and_a_finished_one_frees_its_slot()
    {
        var org = await f.NewOrganizationAsync();
        var other = await f.NewOrganizationAsync();
        var settings = new UploadSettings { MaxConcurrentPerOrganization = 2 };
        await using var first = await StartAsync(org, settings: settings);
        var second = await StartAsync(org, settings: settings);

        var third = () => StartAsync(org, settings: settings);
        var refused = (await third.Should().ThrowAsync<ProblemException>()).Which;
        refused.Kind.Should().Be(ProblemKind.Conflict);
        refused.Extensions["maxConcurrentUploads"].Should().Be("2");
        await using (await StartAsync(other, settings: settings))
        {
            // another organization is not held back
        }

        await second.DisposeAsync();
        await using var again = await StartAsync(org, settings: settings);
        again.UploadId.Should().NotBeEmpty();
    }

    [Fact]
    public async Task Uploads_use_their_own_bounded_pool_and_a_full_pool_is_a_conflict_not_a_hang()
    {
        await using var small = new UploadDataSource(f.Database.ConnectionString,
            Microsoft.Extensions.Options.Options.Create(new UploadSettings { MaxConnections = 1, ConnectionWait = TimeSpan.FromSeconds(1) }));
        var settings = new UploadSettings { MaxConnections = 1 };
        Task<UploadSession> Start(Guid org) => UploadSession.StartAsync(small.DataSource, TrainingDataFixture.Models, TrainingDataFixture.Tokenizers,
            org, Guid.NewGuid(), new UploadOptions(), settings, DateTimeOffset.UtcNow);
        await using var holder = await Start(await f.NewOrganizationAsync());

        var next = () => Start(Guid.NewGuid());

        (await next.Should().ThrowAsync<ProblemException>()).Which.Should().Match<ProblemException>(p => p.Kind == ProblemKind.Conflict && p.Title == "Upload capacity in use");
        (await f.CountAsync("SELECT 1")).Should().Be(1, "the main pool is untouched");
    }

    [Fact]
    public async Task Upload_connections_carry_a_server_side_idle_in_transaction_timeout()
    {
        await using var connection = await f.Uploads.DataSource.OpenConnectionAsync();
        await using var command = new Npgsql.NpgsqlCommand("SHOW idle_in_transaction_session_timeout", connection);
        ((string)(await command.ExecuteScalarAsync())!).Should().Be("10min");
        await using var main = await f.Database.DataSource.OpenConnectionAsync();
        await using var mainCommand = new Npgsql.NpgsqlCommand("SHOW idle_in_transaction_session_timeout", main);
        ((string)(await mainCommand.ExecuteScalarAsync())!).Should().Be("0", "only upload connections get it");
    }

    [Fact]
    public async Task The_server_ends_an_upload_left_idle_in_its_transaction_and_nothing_is_stored()
    {
        var org = await f.NewOrganizationAsync();
        await using var quick = new UploadDataSource(f.Database.ConnectionString,
            Microsoft.Extensions.Options.Options.Create(new UploadSettings { IdleTimeout = TimeSpan.FromSeconds(1) }));
        var session = await UploadSession.StartAsync(quick.DataSource, TrainingDataFixture.Models, TrainingDataFixture.Tokenizers,
            org, Guid.NewGuid(), new UploadOptions(), new UploadSettings(), DateTimeOffset.UtcNow);
        await session.AppendAsync(new UploadChunk(1, Encoding.UTF8.GetBytes(Jsonl(Chat(1)))));

        await Eventually.Async(async () => await f.CountAsync(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'objectalabs-uploads' AND state LIKE 'idle in transaction%'") == 0,
            TimeSpan.FromSeconds(30), "the server ends the idle transaction's session");
        var complete = () => session.CompleteAsync(ExampleLimits.None);

        await complete.Should().ThrowAsync<Npgsql.NpgsqlException>();
        await session.DisposeAsync();
        (await StoredAsync(org)).Should().Be(0);
    }

    [Fact]
    public async Task An_upload_is_past_its_deadline_only_after_it()
    {
        var org = await f.NewOrganizationAsync();
        await using var session = await StartAsync(org, settings: new UploadSettings { Deadline = TimeSpan.FromMinutes(30) });

        session.IsPastDeadline(session.StartedAt + TimeSpan.FromMinutes(29)).Should().BeFalse();
        session.IsPastDeadline(session.StartedAt + TimeSpan.FromMinutes(31)).Should().BeTrue();
    }

    /// <summary>A stream of one line of 'x' without end (up to a length), made as it is read.</summary>
    private sealed class EndlessLine(long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            buffer.AsSpan(offset, n).Fill((byte)'x');
            _position += n;
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
