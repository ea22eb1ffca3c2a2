using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Export;

namespace ObjectaLabs.Orleans.Tests.TrainingData;

public sealed class SplitExportTests(TrainingDataFixture f) : IClassFixture<TrainingDataFixture>
{
    private async Task<(Guid Org, Guid Agent)> SeedAsync(int validated, int pending)
    {
        var org = await f.NewOrganizationAsync();
        var agent = await f.NewAgentAsync(org);
        var rows = Enumerable.Range(0, validated).Select(i => TrainingDataFixture.Row(TrainingDataFixture.Chat($"v{i}", "a"), i % 2 == 0 ? agent : null, validated: true))
            .Concat(Enumerable.Range(0, pending).Select(i => TrainingDataFixture.Row(TrainingDataFixture.Chat($"p{i}", "a"))))
            .ToList();
        await f.Examples.StoreAsync(org, rows, ExampleLimits.None);
        return (org, agent);
    }

    private async Task<List<string>> ExportAsync(Guid org, ExportRequest request)
    {
        var lines = new List<string>();
        await foreach (var line in new ExampleExporter(f.Examples).ExportAsync(org, request))
        {
            lines.Add(line);
        }
        return lines;
    }

    [Fact]
    public async Task Split_is_deterministic_for_a_seed_and_disjoint_and_complete()
    {
        var (org, _) = await SeedAsync(validated: 30, pending: 5);
        var split = new SplitOptions(Seed: 42, ValidationRatio: 0.2);

        var train = await ExportAsync(org, new ExportRequest(Split: split, Part: SplitPart.Train));
        var validation = await ExportAsync(org, new ExportRequest(Split: split, Part: SplitPart.Validation));

        validation.Should().HaveCount(6);
        train.Should().HaveCount(24);
        train.Intersect(validation).Should().BeEmpty();
        train.Concat(validation).Should().BeEquivalentTo(await ExportAsync(org, new ExportRequest()));
        (await ExportAsync(org, new ExportRequest(Split: split, Part: SplitPart.Validation))).Should().Equal(validation);
        (await ExportAsync(org, new ExportRequest(Split: split with { Seed = 7 }, Part: SplitPart.Validation))).Should().NotBeEquivalentTo(validation);
        (await new ExampleExporter(f.Examples).SplitAsync(org, null, split)).Should().Be(new SplitSummary(24, 6, null));
    }

    [Fact]
    public void Split_does_not_depend_on_the_order_examples_arrive_in()
    {
        var ids = Enumerable.Range(0, 50).Select(_ => Guid.NewGuid()).ToList();
        var options = new SplitOptions(3, 0.1);
        var forward = TrainValidationSplit.Validation(ids, options).Validation;
        var backward = TrainValidationSplit.Validation(ids.AsEnumerable().Reverse().ToList(), options).Validation;
        forward.Should().HaveCount(5).And.BeEquivalentTo(backward);
    }

    [Theory]
    [InlineData(12, 0.2, 2)]
    [InlineData(11, 0.2, 0)]
    [InlineData(40, 0.0, 0)]
    public void Split_has_a_validation_part_only_with_enough_examples(int count, double ratio, int expected)
    {
        var (validation, reason) = TrainValidationSplit.Validation(Enumerable.Range(0, count).Select(_ => Guid.NewGuid()).ToList(), new SplitOptions(1, ratio));
        validation.Should().HaveCount(expected);
        (reason is null).Should().Be(expected > 0);
    }

    [Fact]
    public async Task Export_streams_only_validated_examples_optionally_for_one_agent()
    {
        var (org, agent) = await SeedAsync(validated: 6, pending: 3);

        var all = await ExportAsync(org, new ExportRequest());
        var agents = await ExportAsync(org, new ExportRequest(AgentId: agent));

        all.Should().HaveCount(6).And.OnlyContain(l => l.Contains("\"v"));
        agents.Should().HaveCount(3);
        all.Should().OnlyContain(l => l.StartsWith("{\"messages\":[") && !l.Contains('\n'));
    }
}
