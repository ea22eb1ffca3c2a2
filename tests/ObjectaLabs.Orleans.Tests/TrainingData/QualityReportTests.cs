using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Quality;

namespace ObjectaLabs.Orleans.Tests.TrainingData;

public sealed class QualityReportTests(TrainingDataFixture f) : IClassFixture<TrainingDataFixture>
{
    private static readonly DateOnly Today = new(2026, 11, 26);

    private async Task<QualityReport> ReportAsync(Guid org, string model, Guid? agent = null, bool validatedOnly = false) =>
        await f.Analyzer.AnalyzeAsync(TrainingDataFixture.Models.Get(model), f.Examples.StreamAsync(org, agent, validatedOnly), Today);

    [Fact]
    public async Task Report_counts_tokens_messages_and_missing_roles_as_hand_counted()
    {
        var org = await f.NewOrganizationAsync();
        // o200k_base: "hello world" = 2 tokens, "Hello, world!" = 4, and each role name is 1.
        // Cookbook accounting: 3 per message + role + content, plus 3 priming.
        var e1 = TrainingDataFixture.Row("""{"messages":[{"role":"user","content":"hello world"},{"role":"assistant","content":"Hello, world!"}]}""", tags: ["greeting"]);      // 3+6+8 = 17
        var e2 = TrainingDataFixture.Row("""{"messages":[{"role":"system","content":"hello world"},{"role":"user","content":"hello world"},{"role":"assistant","content":"Hello, world!"}]}""", tags: ["greeting"], validated: true); // 3+6+6+8 = 23
        var e3 = TrainingDataFixture.Row("""{"messages":[{"role":"user","content":"hello world"},{"role":"assistant","content":"Hello, world!","weight":1}]}""", tags: ["other"]); // 17, same text as e1
        var e4 = TrainingDataFixture.Row("""{"messages":[{"role":"system","content":"hello world"},{"role":"assistant","content":"Hello, world!"}]}""");      // 17, no user
        await f.Examples.StoreAsync(org, [e1, e2, e3, e4], ExampleLimits.None);

        var report = await ReportAsync(org, "openai/gpt-4o-mini-2024-07-18");

        report.Examples.Should().Be(4);
        report.TokensApproximate.Should().BeFalse();
        report.TokenLimit.Should().Be(65536);
        report.TotalTokens.Should().Be(17 + 23 + 17 + 17);
        report.TokensPerExample.Should().Be(new Distribution(17, 17, 23, 23, 18.5));
        report.MessagesPerExample.Should().Be(new Distribution(2, 2, 3, 3, 2.25));
        report.OverTokenLimit.Should().BeEmpty();
        report.MissingSystem.Should().Be(2);
        report.MissingUser.Should().Be(1);
        report.ExactDuplicates.Should().ContainSingle().Which.Should().BeEquivalentTo([e1.Id, e3.Id]);
        report.NearDuplicates.Should().BeEmpty("the only near-duplicates are already exact ones");
        report.ByTag.Should().BeEquivalentTo(new Dictionary<string, int> { ["greeting"] = 2, ["other"] = 1 });
        report.Verdicts.Should().Contain(v => v.Code == "cannot_train" && v.Level == VerdictLevel.Blocker);
        report.Verdicts.Should().Contain(v => v.Code == "model_shutdown_scheduled" && v.Message.Contains("2027-01-14"));

        var validated = await ReportAsync(org, "openai/gpt-4o-mini-2024-07-18", validatedOnly: true);
        validated.Examples.Should().Be(1);
        validated.TotalTokens.Should().Be(23);
    }

    [Fact]
    public async Task Report_finds_near_duplicates_and_over_long_examples_and_says_counts_are_approximate_for_open_models()
    {
        var org = await f.NewOrganizationAsync();
        var a = TrainingDataFixture.Row(TrainingDataFixture.Chat("How do I reset my password?", "Use the reset link."));
        var b = TrainingDataFixture.Row(TrainingDataFixture.Chat("how do i reset my password", "Use the reset link!!"));
        var c = TrainingDataFixture.Row(TrainingDataFixture.Chat(string.Join(' ', Enumerable.Repeat("token", 9000)), "ok"));
        await f.Examples.StoreAsync(org, [a, b, c], ExampleLimits.None);

        var report = await ReportAsync(org, "sandbox/sandbox-small");

        report.NearDuplicates.Should().ContainSingle().Which.Should().BeEquivalentTo([a.Id, b.Id]);
        report.ExactDuplicates.Should().BeEmpty();
        report.OverTokenLimit.Should().Equal(c.Id);
        report.TokensApproximate.Should().BeTrue();
        report.Verdicts.Should().Contain(v => v.Code == "approximate_tokens");
        report.Verdicts.Should().Contain(v => v.Code == "over_token_limit" && v.Message.StartsWith("1 examples"));
    }

    [Fact]
    public async Task Report_says_when_the_models_limit_is_unknown_or_the_model_is_shut_down()
    {
        var org = await f.NewOrganizationAsync();
        await f.Examples.StoreAsync(org, [TrainingDataFixture.Row(TrainingDataFixture.Chat("q", "a"))], ExampleLimits.None);

        var together = await ReportAsync(org, "together/Qwen/Qwen2.5-7B-Instruct");
        together.TokenLimit.Should().BeNull();
        together.Verdicts.Should().Contain(v => v.Code == "token_limit_unknown");

        var retired = await ReportAsync(org, "openai/gpt-3.5-turbo-0125");
        retired.Verdicts.Should().Contain(v => v.Code == "model_shut_down" && v.Level == VerdictLevel.Blocker && v.Message.Contains("2026-10-23"));
    }

    [Theory]
    [InlineData(9, "cannot_train")]
    [InlineData(10, "not_advised")]
    [InlineData(99, "not_advised")]
    [InlineData(100, "below_recommended")]
    [InlineData(500, "enough_examples")]
    public async Task Report_gives_the_best_practice_verdict_for_the_example_count(int count, string verdict)
    {
        var org = await f.NewOrganizationAsync();
        await f.Examples.StoreAsync(org, Enumerable.Range(0, count).Select(i => TrainingDataFixture.Row(TrainingDataFixture.Chat($"q{i}", $"a{i}"))).ToList(), ExampleLimits.None);

        var report = await ReportAsync(org, "openai/gpt-4o-mini-2024-07-18");

        report.Verdicts.Where(v => v.Code is "cannot_train" or "not_advised" or "below_recommended" or "enough_examples")
            .Should().ContainSingle().Which.Code.Should().Be(verdict);
    }

    [Fact]
    public async Task Report_flags_unbalanced_agents_and_tags()
    {
        var org = await f.NewOrganizationAsync();
        var big = await f.NewAgentAsync(org, "big");
        var small = await f.NewAgentAsync(org, "small");
        var rows = Enumerable.Range(0, 8).Select(i => TrainingDataFixture.Row(TrainingDataFixture.Chat($"q{i}", $"a{i}"), big, ["billing"]))
            .Append(TrainingDataFixture.Row(TrainingDataFixture.Chat("x", "y"), small, ["shipping"])).ToList();
        await f.Examples.StoreAsync(org, rows, ExampleLimits.None);

        var report = await ReportAsync(org, "openai/gpt-4o-mini-2024-07-18");

        report.ByAgent.Should().BeEquivalentTo(new Dictionary<string, int> { [big.ToString()] = 8, [small.ToString()] = 1 });
        report.Verdicts.Should().Contain(v => v.Code == "unbalanced_agents" && v.Message.Contains("8") && v.Message.Contains("1"));
        report.Verdicts.Should().Contain(v => v.Code == "unbalanced_tags" && v.Message.Contains("billing"));
    }

    [Fact]
    public async Task Report_finds_personal_data_and_redaction_replaces_it_and_clears_validation()
    {
        var org = await f.NewOrganizationAsync();
        var row = TrainingDataFixture.Row(TrainingDataFixture.Chat(
            "Mail jane.doe@example.com or call +1 415 555 0100. Card 4111 1111 1111 1111; order 4111 1111 1111 1112.", "Noted."), validated: true);
        await f.Examples.StoreAsync(org, [row], ExampleLimits.None);

        var report = await ReportAsync(org, "openai/gpt-4o-mini-2024-07-18");

        report.PersonalData.Select(p => (p.Kind, p.Path)).Should().BeEquivalentTo(new[]
        {
            (PersonalDataKind.Email, "$.messages[0].content"),
            (PersonalDataKind.Phone, "$.messages[0].content"),
            (PersonalDataKind.PaymentCard, "$.messages[0].content"),
        });
        report.PersonalData.Should().OnlyContain(p => !p.Masked.Contains("jane.doe") && !p.Masked.Contains("1111 1111 1111"));

        var (json, replacements) = PersonalDataRedactor.Redact((await f.Examples.GetAsync(org, row.Id))!.Example);
        replacements.Should().Be(3);
        var updated = await f.Examples.UpdateAsync(org, row.Id, ExampleProblems.Require(json), null, null, DateTimeOffset.UtcNow);
        updated!.Example.Should().Contain("Mail [EMAIL] or call [PHONE]. Card [CARD]; order 4111 1111 1111 1112.");
        updated.IsValidated.Should().BeFalse();
    }

    [Theory]
    [InlineData("Call me on 020 7946 0958 please", PersonalDataKind.Phone)]
    [InlineData("My card is 5555-5555-5555-4444", PersonalDataKind.PaymentCard)]
    [InlineData("write to a.b+c@mail.example.org", PersonalDataKind.Email)]
    public void Scanner_finds_each_kind_of_personal_data(string text, PersonalDataKind kind) =>
        PersonalDataScanner.Scan(text).Should().ContainSingle().Which.Kind.Should().Be(kind);

    [Theory]
    [InlineData("Order 12345678 shipped on 2026-11-26 10:00")]
    [InlineData("Card ending 4111 1111 1111 1112 failed the check")]
    [InlineData("Version 1.2.3 costs $19.99")]
    public void Scanner_leaves_order_numbers_timestamps_and_luhn_failures_alone(string text) =>
        PersonalDataScanner.Scan(text).Should().BeEmpty();

    [Fact]
    public void Scanner_handles_crafted_runs_and_finds_what_surrounds_them()
    {
        // Inputs that make a backtracking engine retry every start: long address-character runs with no '@',
        // many '@'s with no top-level domain, and dotted labels that never end in letters.
        var noAt = new string('a', 200_000);
        var noDomain = string.Concat(Enumerable.Repeat("a@b", 50_000));
        var dotted = "x@" + string.Concat(Enumerable.Repeat("a1.", 60_000)) + "1";
        var text = $"mail ann@example.com {noAt} {noDomain} {dotted} or call +44 20 7946 0958";

        var found = PersonalDataScanner.Scan(text);

        found.Select(m => m.Kind).Should().Equal(PersonalDataKind.Email, PersonalDataKind.Phone);
        text.Substring(found[0].Index, found[0].Length).Should().Be("ann@example.com");
        text.Substring(found[1].Index, found[1].Length).Should().Be("+44 20 7946 0958");
    }

    [Fact]
    public void A_number_inside_an_address_is_not_also_a_phone_and_numbers_after_addresses_still_count()
    {
        var found = PersonalDataScanner.Scan("a 0207946095812@example.com b c@d.io then 020 7946 0958");

        found.Select(m => m.Kind).Should().Equal(PersonalDataKind.Email, PersonalDataKind.Email, PersonalDataKind.Phone);
    }
}
