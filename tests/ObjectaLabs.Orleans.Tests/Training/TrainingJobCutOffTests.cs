using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Tests.Infrastructure;
using ObjectaLabs.Orleans.Training;

namespace ObjectaLabs.Orleans.Tests.Training;

/// <summary>A provider's last day for new jobs, reached on a fake clock of its own (it moves weeks ahead).</summary>
public sealed class TrainingJobCutOffTests(FakeClockClusterFixture fixture) : IClassFixture<FakeClockClusterFixture>
{
    private const string OpenAiModel = "openai/gpt-4o-mini-2024-07-18";

    [Fact]
    public async Task After_openais_cut_off_for_new_jobs_an_openai_job_is_refused_naming_the_plans_together_models()
    {
        var org = await TrainingJobClockTests.OrganizationAsync(fixture.Grains);
        var desk = fixture.Grains.GetGrain<ITrainingJobsGrain>(org);
        // OpenAI takes no new fine-tuning jobs after 2027-01-06; the day itself still does.
        var lastDay = new DateTimeOffset(2027, 1, 6, 23, 0, 0, TimeSpan.Zero);
        if (fixture.Clock.GetUtcNow() < lastDay)
        {
            fixture.Clock.SetUtcNow(lastDay);
        }
        var accepted = await desk.EstimateAsync(new TrainingEstimateRequest(OpenAiModel, null, 0, 42, new JobHyperparameters(null, null, null, null), null));
        fixture.Clock.Advance(TimeSpan.FromHours(2));

        var refusal = await FluentActions.Awaiting(() => desk.CreateAsync(Guid.NewGuid(), TrainingJobClockTests.Request("Too late", OpenAiModel)))
            .Should().ThrowAsync<ProblemException>();

        accepted.TrainingExamples.Should().Be(10, "on its last day the model still takes jobs");
        refusal.Which.Field.Should().Be("baseModel");
        refusal.Which.Extensions["rule"].Should().Be("newJobsUntil");
        refusal.Which.Message.Should().Contain("took its last new fine-tuning jobs on 2027-01-06");
        refusal.Which.Extensions["alternatives"].Split(',').Should().BeEquivalentTo(
            ["together/meta-llama/Meta-Llama-3.1-8B-Instruct-Reference", "together/meta-llama/Meta-Llama-3.1-70B-Instruct-Reference", "together/Qwen/Qwen2.5-7B-Instruct",
                "sandbox/sandbox-small", "sandbox/sandbox-large", "sandbox/sandbox-dedicated"],
            "after the cut-off the Business plan trains on Together (and the sandbox)");
    }
}
