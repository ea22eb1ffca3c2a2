using Microsoft.Extensions.Time.Testing;
using ObjectaLabs.Orleans.Deployment;
using ObjectaLabs.Orleans.Usage;

namespace ObjectaLabs.Orleans.Tests.Usage;

public sealed class CooldownBreakerTests
{
    // 60 s window in 12 buckets of 5 s; trips at ≥ 50 % failures of ≥ 20 outcomes; cools down 30 s.
    private static readonly BreakerOptions Options = BreakerOptions.Default;
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 3, 12, 0, 0, TimeSpan.Zero));

    private CooldownBreaker NewBreaker() => new(Options, _clock);

    [Fact]
    public void Failures_below_the_minimum_number_of_requests_do_not_trip()
    {
        var breaker = NewBreaker();
        breaker.Record(0, 19).State.Should().Be(BreakerState.Closed);
        breaker.Status.Serves.Should().BeTrue();
    }

    [Fact]
    public void Half_of_twenty_requests_failing_trips_the_cool_down()
    {
        var breaker = NewBreaker();
        breaker.Record(10, 9).State.Should().Be(BreakerState.Closed);
        var status = breaker.Record(0, 1);
        status.State.Should().Be(BreakerState.CoolingDown);
        status.CoolingDownUntil.Should().Be(_clock.GetUtcNow() + TimeSpan.FromSeconds(30));
        status.Serves.Should().BeFalse();
    }

    [Fact]
    public void A_failure_rate_below_the_threshold_stays_closed()
    {
        var breaker = NewBreaker();
        breaker.Record(11, 9).State.Should().Be(BreakerState.Closed); // 45 % of 20
        breaker.WindowCounts.Should().Be((9, 20));
    }

    [Fact]
    public void Outcomes_older_than_the_window_slide_out()
    {
        var breaker = NewBreaker();
        breaker.Record(0, 15);
        _clock.Advance(TimeSpan.FromSeconds(65));
        breaker.Record(5, 5).State.Should().Be(BreakerState.Closed); // the 15 failures are gone: 5 of 10
        breaker.WindowCounts.Should().Be((5, 10));
    }

    [Fact]
    public void Outcomes_within_the_window_add_up_across_buckets()
    {
        var breaker = NewBreaker();
        breaker.Record(0, 15);
        _clock.Advance(TimeSpan.FromSeconds(50));
        breaker.Record(5, 0).State.Should().Be(BreakerState.CoolingDown); // 15 of 20 within 60 s
    }

    [Fact]
    public void While_cooling_down_reports_are_ignored_and_then_the_model_is_tried_again()
    {
        var breaker = NewBreaker();
        breaker.Record(0, 20);
        _clock.Advance(TimeSpan.FromSeconds(29));
        breaker.Record(100, 0).State.Should().Be(BreakerState.CoolingDown);
        _clock.Advance(TimeSpan.FromSeconds(1));
        var status = breaker.Status;
        status.State.Should().Be(BreakerState.HalfOpen);
        status.Serves.Should().BeTrue();
    }

    [Fact]
    public void A_success_while_half_open_closes_with_an_empty_window()
    {
        var breaker = NewBreaker();
        breaker.Record(0, 20);
        _clock.Advance(TimeSpan.FromSeconds(30));
        breaker.Record(1, 0).Should().Be(BreakerStatus.Closed);
        breaker.WindowCounts.Should().Be((0, 0));
        breaker.Record(0, 19).State.Should().Be(BreakerState.Closed); // counting starts over
    }

    [Fact]
    public void A_failure_while_half_open_cools_down_again()
    {
        var breaker = NewBreaker();
        breaker.Record(0, 20);
        _clock.Advance(TimeSpan.FromSeconds(31));
        var status = breaker.Record(3, 1);
        status.State.Should().Be(BreakerState.CoolingDown);
        status.CoolingDownUntil.Should().Be(_clock.GetUtcNow() + TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void Nonsensical_options_are_refused()
    {
        FluentActions.Invoking(() => new CooldownBreaker(Options with { FailureRate = 0 }, _clock)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("FailureRate");
        FluentActions.Invoking(() => new CooldownBreaker(Options with { MinimumRequests = 0 }, _clock)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("MinimumRequests");
        FluentActions.Invoking(() => new CooldownBreaker(Options with { Cooldown = TimeSpan.Zero }, _clock)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("Cooldown");
        FluentActions.Invoking(() => new CooldownBreaker(Options with { WindowBuckets = 0 }, _clock)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("Window");
        FluentActions.Invoking(() => NewBreaker().Record(-1, 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("successes");
    }
}
