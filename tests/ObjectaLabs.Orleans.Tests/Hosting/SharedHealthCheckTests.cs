using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using ObjectaLabs.Orleans.Api.Hosting;

namespace ObjectaLabs.Orleans.Tests.Hosting;

/// <summary>A flood of readiness requests shares one probe at a time, reused for a second.</summary>
public sealed class SharedHealthCheckTests
{
    [Fact]
    public async Task Concurrent_callers_share_one_probe_and_a_later_caller_gets_a_fresh_one()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero));
        var inner = new CountingCheck();
        var shared = new SharedHealthCheck(inner, clock);

        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(() => shared.CheckHealthAsync(new HealthCheckContext()))));
        clock.Advance(TimeSpan.FromMilliseconds(500));
        await shared.CheckHealthAsync(new HealthCheckContext());
        var reusedProbes = inner.Probes;
        clock.Advance(TimeSpan.FromSeconds(1));
        await shared.CheckHealthAsync(new HealthCheckContext());

        answers.Should().OnlyContain(a => a.Status == HealthStatus.Healthy);
        reusedProbes.Should().Be(1, "200 concurrent callers and one within the second share a single probe");
        inner.Probes.Should().Be(2, "after a second the answer is probed again");
    }

    private sealed class CountingCheck : IHealthCheck
    {
        private int _probes;

        public int Probes => _probes;

        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _probes);
            await Task.Delay(50, cancellationToken);
            return HealthCheckResult.Healthy();
        }
    }
}
