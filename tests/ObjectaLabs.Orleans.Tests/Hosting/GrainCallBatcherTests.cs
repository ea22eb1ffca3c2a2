using ObjectaLabs.Orleans.Api.Hosting;

namespace ObjectaLabs.Orleans.Tests.Hosting;

/// <summary>The API's per-organization batching of grain calls (usage reports, few-shot selections), with a fake call.</summary>
public sealed class GrainCallBatcherTests
{
    [Fact]
    public async Task Concurrent_requests_share_calls_each_gets_its_own_answer_and_calls_in_flight_stay_within_the_limit()
    {
        var inFlight = 0;
        var mostInFlight = 0;
        var calls = 0;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var batcher = new GrainCallBatcher<int, string>(async (org, requests) =>
        {
            var now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref mostInFlight, now);
            Interlocked.Increment(ref calls);
            await gate.Task; // hold the first calls, so the others queue up behind them
            Interlocked.Decrement(ref inFlight);
            return [.. requests.Select(r => $"{org:N}:{r}")];
        }, maxPerCall: 10, maxInFlight: 2);
        var org = Guid.NewGuid();

        var answers = Enumerable.Range(0, 100).Select(i => batcher.SendAsync(org, i)).ToList();
        await Task.Delay(100);
        gate.SetResult();
        var results = await Task.WhenAll(answers);

        results.Should().Equal(Enumerable.Range(0, 100).Select(i => $"{org:N}:{i}"), "each request gets its own answer, whatever call carried it");
        mostInFlight.Should().BeInRange(1, 2);
        calls.Should().BeInRange(10, 99, "calls carried several requests each (at most 10), not one each");
    }

    [Fact]
    public async Task A_failed_call_fails_only_the_requests_it_carried_and_an_idle_request_goes_at_once()
    {
        var batcher = new GrainCallBatcher<int, int>((_, requests) =>
            requests.Contains(13) ? throw new InvalidOperationException("unlucky") : Task.FromResult<IReadOnlyList<int>>([.. requests.Select(r => r * 2)]),
            maxPerCall: 1);
        var org = Guid.NewGuid();

        (await batcher.SendAsync(org, 4)).Should().Be(8);
        var failing = () => batcher.SendAsync(org, 13);
        await failing.Should().ThrowAsync<InvalidOperationException>().WithMessage("unlucky");
        (await batcher.SendAsync(org, 5)).Should().Be(10, "the next call is not affected");
        (await batcher.SendAsync(Guid.NewGuid(), 7)).Should().Be(14, "organizations have queues of their own");
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
