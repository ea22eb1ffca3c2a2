using ObjectaLabs.Orleans.Deployment;

namespace ObjectaLabs.Orleans.Tests.Experiments;

public sealed class StickyAssignmentTests
{
    private const double TwoTo53 = 9007199254740992.0;
    private static readonly Guid Experiment = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");

    // Expected draws computed independently (Python hashlib): the first 8 bytes of
    // SHA-256(u32be(len id) ‖ id ‖ u32be(len key) ‖ key), as a big-endian integer >> 11, ÷ 2^53.
    [Theory]
    [InlineData("exp-1", "user-42", 5707219389795411L)]                                      // a2357c831262997a
    [InlineData("0f8fad5b-d9cb-469f-a165-70867728950e", "conversation-7", 529780108508051L)]  // 0f0ea85969dc9a9d
    [InlineData("", "", 6169008071258145L)]                                                   // af5570f5a1810b7a
    [InlineData("ab", "c", 8534907236516572L)]                                                // f2939f903016e5bb
    [InlineData("a", "bc", 6375628816618385L)]                                                // b534ce16ac9c8b36
    [InlineData("expérience", "usuário-ü-😀", 8137518196980230L)]                              // e7483ccbdfd0341f
    public void Draw_is_the_documented_hash_of_experiment_and_subject(string experiment, string subject, long top53Bits) =>
        StickyAssignment.Draw(experiment, subject).Should().Be(top53Bits / TwoTo53);

    [Fact]
    public void Guid_experiment_ids_hash_as_their_lower_case_text()
    {
        StickyAssignment.Draw(Experiment, "conversation-7").Should().Be(529780108508051L / TwoTo53);
        StickyAssignment.Assign(Experiment, "conversation-7", 0.06).Should().Be(ExperimentArm.Candidate); // draw 0.0588
        StickyAssignment.Assign(Experiment, "conversation-7", 0.05).Should().Be(ExperimentArm.Control);
    }

    [Fact]
    public void Length_prefixes_keep_shifted_boundaries_apart() =>
        StickyAssignment.Draw("ab", "c").Should().NotBe(StickyAssignment.Draw("a", "bc"));

    [Fact]
    public void Long_subject_keys_beyond_the_stack_buffer_hash_the_same_way()
    {
        var key = new string('k', 2_000);
        var first = StickyAssignment.Draw("exp", key);
        first.Should().BeInRange(0, 1).And.Be(StickyAssignment.Draw("exp", key));
        first.Should().NotBe(StickyAssignment.Draw("exp", key.AsSpan(0, key.Length - 1)));
    }

    [Fact]
    public void Same_subject_always_gets_the_same_arm()
    {
        var arms = Enumerable.Range(0, 100).Select(_ => StickyAssignment.Assign(Experiment, "end-user-99", 0.5)).Distinct();
        arms.Should().ContainSingle();
    }

    [Fact]
    public void Observed_split_over_10000_subjects_is_within_tolerance_of_the_share()
    {
        var candidates = Subjects().Count(s => StickyAssignment.Assign(Experiment, s, 0.2) == ExperimentArm.Candidate);
        // Binomial(10,000, 0.2): sd = sqrt(10,000 × 0.2 × 0.8) = 40; ±4 sd = ±160.
        candidates.Should().BeInRange(2_000 - 160, 2_000 + 160);
    }

    [Fact]
    public void Raising_the_share_moves_only_subjects_in_the_changed_band_from_control_to_candidate()
    {
        var moved = 0;
        foreach (var subject in Subjects())
        {
            var before = StickyAssignment.Assign(Experiment, subject, 0.2);
            var after = StickyAssignment.Assign(Experiment, subject, 0.3);
            var draw = StickyAssignment.Draw(Experiment, subject);
            if (before != after)
            {
                moved++;
                before.Should().Be(ExperimentArm.Control);
                draw.Should().BeInRange(0.2, 0.3);
            }
            else
            {
                (draw is < 0.2 or >= 0.3).Should().BeTrue();
            }
        }
        moved.Should().BeInRange(1_000 - 120, 1_000 + 120); // Binomial(10,000, 0.1): sd 30
    }

    [Fact]
    public void Lowering_the_share_moves_subjects_back_only_from_the_band()
    {
        var movedToControl = Subjects().Count(s =>
            StickyAssignment.Assign(Experiment, s, 0.5) == ExperimentArm.Candidate && StickyAssignment.Assign(Experiment, s, 0.4) == ExperimentArm.Control);
        var movedToCandidate = Subjects().Count(s =>
            StickyAssignment.Assign(Experiment, s, 0.5) == ExperimentArm.Control && StickyAssignment.Assign(Experiment, s, 0.4) == ExperimentArm.Candidate);
        movedToCandidate.Should().Be(0);
        movedToControl.Should().BeInRange(1_000 - 120, 1_000 + 120);
    }

    [Fact]
    public void Different_experiments_assign_the_same_subject_independently()
    {
        var other = Guid.Parse("6f9619ff-8b86-d011-b42d-00c04fc964ff");
        var agree = Subjects().Count(s => StickyAssignment.Assign(Experiment, s, 0.5) == StickyAssignment.Assign(other, s, 0.5));
        agree.Should().BeInRange(5_000 - 200, 5_000 + 200); // independent halves agree half the time (sd 50)
    }

    [Theory]
    [InlineData(0.0, ExperimentArm.Control)]
    [InlineData(1.0, ExperimentArm.Candidate)]
    public void A_share_of_0_or_1_sends_everyone_to_one_arm(double share, ExperimentArm arm) =>
        Subjects().Take(1_000).Select(s => StickyAssignment.Assign(Experiment, s, share)).Should().OnlyContain(a => a == arm);

    [Theory]
    [InlineData(-0.01)]
    [InlineData(1.01)]
    [InlineData(double.NaN)]
    public void Share_outside_0_to_1_is_refused(double share)
    {
        var assign = () => StickyAssignment.Assign(Experiment, "s", share);
        assign.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("candidateShare");
    }

    [Fact]
    public void Assignment_allocates_nothing()
    {
        StickyAssignment.Assign(Experiment, "warm-up", 0.5);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            StickyAssignment.Assign(Experiment, "conversation-0123456789", 0.5);
        }
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
    }

    private static IEnumerable<string> Subjects() => Enumerable.Range(0, 10_000).Select(i => $"subject-{i}");
}
