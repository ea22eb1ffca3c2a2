using ObjectaLabs.Orleans.Api.Resolution;
using ObjectaLabs.Orleans.Deployment;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Tests.Resolution;

/// <summary>Resolution's rules on a snapshot: sticky split, fallback with its reason, and no model at all.</summary>
public sealed class ResolverTests
{
    private static readonly Guid Agent = Guid.NewGuid();
    private static readonly Guid Candidate = Guid.NewGuid();
    private static readonly DateOnly Today = new(2026, 12, 7);
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private const string Base = "openai/gpt-4o-mini-2024-07-18";

    private static ResolutionSnapshot Snapshot(double share, bool candidateServes = true, string? reason = null, DateOnly? baseShutdown = null, bool fallbackServes = true,
        DateTimeOffset? candidateCoolingUntil = null)
    {
        var experiment = new Experiment(Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"), ModelChoice.Base(Base), ModelChoice.FineTuned(Candidate), share,
            SubjectKind.Conversation, 0.02, 1000, ExperimentStatus.Running, DateTimeOffset.UnixEpoch, null);
        var deployment = new AgentDeployment(Agent, ModelChoice.Base(Base), ModelChoice.Base("together/Qwen/Qwen2.5-7B-Instruct"), experiment, [], DateTimeOffset.UnixEpoch);
        return new ResolutionSnapshot(Guid.NewGuid(), 7, new Dictionary<Guid, AgentDeployment> { [Agent] = deployment },
            new Dictionary<Guid, ModelTarget> { [Candidate] = new("openai", "ft:gpt-4o-mini:org::x", "https://api.openai.com/v1", Candidate, "Support", 2, candidateServes, reason, CoolingDownUntil: candidateCoolingUntil) },
            new Dictionary<string, ModelTarget>
            {
                [Base] = new("openai", "gpt-4o-mini-2024-07-18", "https://api.openai.com/v1", null, Base, null, true, null, baseShutdown),
                ["together/Qwen/Qwen2.5-7B-Instruct"] = new("together", "Qwen/Qwen2.5-7B-Instruct", "https://api.together.xyz/v1", null, "Qwen", null, fallbackServes, fallbackServes ? null : "base model not in the catalog"),
            },
            []);
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.3)]
    [InlineData(0.5)]
    public void Over_10000_subjects_the_candidate_share_is_observed_within_1_5_points(double share)
    {
        var snapshot = Snapshot(share);
        var candidates = Enumerable.Range(0, 10_000).Count(i => Resolver.Resolve(snapshot, Agent, $"conversation-{i}", Now).Arm == ExperimentArm.Candidate);

        (candidates / 10_000.0).Should().BeApproximately(share, 0.015);
    }

    [Fact]
    public void Raising_the_share_moves_only_control_subjects_into_the_candidate_arm()
    {
        var before = Enumerable.Range(0, 5_000).Select(i => Resolver.Resolve(Snapshot(0.2), Agent, $"s{i}", Now).Arm).ToList();
        var after = Enumerable.Range(0, 5_000).Select(i => Resolver.Resolve(Snapshot(0.4), Agent, $"s{i}", Now).Arm).ToList();

        before.Zip(after).Should().NotContain(p => p.First == ExperimentArm.Candidate && p.Second == ExperimentArm.Control, "no candidate subject goes back");
        before.Zip(after).Count(p => p.First != p.Second).Should().BeInRange(800, 1_200, "about the 20 points of the changed band move");
    }

    [Fact]
    public void A_candidate_that_does_not_serve_falls_back_with_the_reason_and_a_shut_down_base_model_too()
    {
        var subject = Enumerable.Range(0, 100).Select(i => $"c{i}").First(s => Resolver.Resolve(Snapshot(0.5), Agent, s, Now).Arm == ExperimentArm.Candidate);
        var control = Enumerable.Range(0, 100).Select(i => $"c{i}").First(s => Resolver.Resolve(Snapshot(0.5), Agent, s, Now).Arm == ExperimentArm.Control);

        var retired = Resolver.Resolve(Snapshot(0.5, candidateServes: false, reason: "model retired"), Agent, subject, Now);
        var shutDown = Resolver.Resolve(Snapshot(0.5, baseShutdown: Today), Agent, control, Now);
        var dayBefore = Resolver.Resolve(Snapshot(0.5, baseShutdown: Today.AddDays(1)), Agent, control, Now);

        (retired.FellBack, retired.FallbackReason, retired.Provider, retired.Arm).Should().Be((true, "model retired", "together", ExperimentArm.Candidate));
        (shutDown.FellBack, shutDown.FallbackReason).Should().Be((true, "base model shut down on 2026-12-07"));
        dayBefore.FellBack.Should().BeFalse();
        retired.SnapshotVersion.Should().Be(7);
    }

    [Fact]
    public void A_candidate_cooling_down_after_failures_falls_back_until_its_cool_down_ends()
    {
        var subject = Enumerable.Range(0, 100).Select(i => $"c{i}").First(s => Resolver.Resolve(Snapshot(0.5), Agent, s, Now).Arm == ExperimentArm.Candidate);
        var snapshot = Snapshot(0.5, candidateCoolingUntil: Now.AddMinutes(1));

        var cooling = Resolver.Resolve(snapshot, Agent, subject, Now);
        var atTheEnd = Resolver.Resolve(snapshot, Agent, subject, Now.AddMinutes(1));

        (cooling.FellBack, cooling.Provider, cooling.Arm).Should().Be((true, "together", ExperimentArm.Candidate), "the arm stays the subject's; only the model it gets changes");
        cooling.FallbackReason.Should().Be("cooling down after failures until 2026-12-07T12:01:00Z");
        (atTheEnd.FellBack, atTheEnd.ModelId).Should().Be((false, Candidate));
    }

    [Fact]
    public void When_neither_the_model_nor_the_fallback_serves_the_answer_is_a_conflict_naming_both()
    {
        var subject = Enumerable.Range(0, 100).Select(i => $"c{i}").First(s => Resolver.Resolve(Snapshot(0.5), Agent, s, Now).Arm == ExperimentArm.Candidate);

        var act = () => Resolver.Resolve(Snapshot(0.5, candidateServes: false, reason: "model deleted", fallbackServes: false), Agent, subject, Now);

        act.Should().Throw<ProblemException>().Where(e => e.Kind == ProblemKind.Conflict && e.Message.Contains("model deleted") && e.Message.Contains("not in the catalog"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void An_experiment_needs_a_subject_and_an_unknown_agent_is_not_found(string? subject)
    {
        FluentActions.Invoking(() => Resolver.Resolve(Snapshot(0.5), Agent, subject, Now)).Should().Throw<ProblemException>().Where(e => e.Field == "subject");
        FluentActions.Invoking(() => Resolver.Resolve(Snapshot(0.5), Guid.NewGuid(), "x", Now)).Should().Throw<ProblemException>().Where(e => e.Kind == ProblemKind.NotFound);
        FluentActions.Invoking(() => Resolver.Resolve(Snapshot(0.5), Agent, new string('x', 257), Now)).Should().Throw<ProblemException>().Where(e => e.Field == "subject");
    }
}
