using ObjectaLabs.Orleans.Training.Jobs;

namespace ObjectaLabs.Orleans.Tests.Training;

/// <summary>When a job's next poll is due: on a fixed rate while polls are on time, so a poll's own duration never stretches the period.</summary>
public sealed class PollScheduleTests
{
    private static readonly DateTimeOffset Due = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(0)]
    [InlineData(30)]
    [InlineData(4_999)]
    public void A_poll_on_time_or_a_little_late_keeps_the_fixed_rate(int lateMs) =>
        TrainingJobGrain.NextDue(Due, Due.AddMilliseconds(lateMs), Interval).Should().Be(Due + Interval);

    [Theory]
    [InlineData(5_000)]
    [InlineData(60_000)]
    public void A_poll_late_by_half_an_interval_or_more_starts_a_new_period_from_now(int lateMs) =>
        TrainingJobGrain.NextDue(Due, Due.AddMilliseconds(lateMs), Interval).Should().Be(Due.AddMilliseconds(lateMs) + Interval);

    [Fact]
    public void A_forced_poll_before_its_due_time_and_a_first_poll_count_from_now()
    {
        TrainingJobGrain.NextDue(Due, Due.AddSeconds(-3), Interval).Should().Be(Due.AddSeconds(7));
        TrainingJobGrain.NextDue(null, Due, Interval).Should().Be(Due + Interval);
    }
}
