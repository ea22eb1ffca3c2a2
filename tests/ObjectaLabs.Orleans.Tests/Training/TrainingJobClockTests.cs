using System.Diagnostics;
using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.ProviderEmulators;
using ObjectaLabs.Orleans.Tests.Infrastructure;
using ObjectaLabs.Orleans.Training;
using ObjectaLabs.Orleans.Training.Jobs;

namespace ObjectaLabs.Orleans.Tests.Training;

/// <summary>
/// Time-driven behaviour of a training job on a fake clock, with production's intervals: the sandbox's fast poll,
/// the one-minute reminder, back-off doubling to 30 minutes, Retry-After, and giving up after three days of faults.
/// </summary>
public sealed class TrainingJobClockTests(FakeClockClusterFixture fixture) : IClassFixture<FakeClockClusterFixture>
{
    private const string OpenAiModel = "openai/gpt-4o-mini-2024-07-18";

    private IGrainFactory Grains => fixture.Grains;

    [Fact]
    public async Task A_sandbox_job_moves_only_with_the_clock_polled_every_2_seconds_and_ends_at_the_providers_finish_time()
    {
        var org = await OrganizationAsync();
        var jobId = Guid.NewGuid();
        var job = Grains.GetGrain<ITrainingJobGrain>(jobId);
        var createdAt = fixture.Clock.GetUtcNow();
        await Grains.GetGrain<ITrainingJobsGrain>(org).CreateAsync(jobId, Request("Clocked", "sandbox/sandbox-small"));

        var polls = new List<TrainingJobInfo>();
        // The first poll (upload, submit, poll) is due at the reminder's first tick (1 s) or the fast timer's (2 s): the
        // clock waits for it, so everything it stamps reads the same time.
        fixture.Clock.Advance(TimeSpan.FromSeconds(1));
        var info = await job.GetAsync(org);
        if (!await LandsAsync(TimeSpan.FromSeconds(3)))
        {
            fixture.Clock.Advance(TimeSpan.FromSeconds(1));
            (await LandsAsync(TimeSpan.FromSeconds(10))).Should().BeTrue("the fast timer's first tick submits the job");
        }
        async Task<bool> LandsAsync(TimeSpan within)
        {
            var until = Stopwatch.StartNew();
            while ((info = await job.GetAsync(org)).LastPolledAt is null && until.Elapsed < within)
            {
                await Task.Delay(20);
            }
            return info.LastPolledAt is not null;
        }
        while (info.ModelId is null && fixture.Clock.GetUtcNow() - createdAt < TimeSpan.FromMinutes(2))
        {
            // After the first poll the fast timer is pointed at each next due time: when one is due, let the poll land
            // before the clock moves again (it stands still while the poll is in flight, however loaded the machine).
            if (info.LastPolledAt is not null && !info.Status.IsFinal() && info.NextPollAt is { } due && due <= fixture.Clock.GetUtcNow())
            {
                var before = info.LastPolledAt;
                await Eventually.Async(async () => (info = await job.GetAsync(org)).LastPolledAt != before, TimeSpan.FromSeconds(10), "a due poll lands");
            }
            if (info.Status.IsFinal())
            {
                await Eventually.Async(async () => (info = await job.GetAsync(org)).ModelId is not null, TimeSpan.FromSeconds(10), "a succeeded job registers its model");
            }
            Record(info);
            if (info.ModelId is null)
            {
                fixture.Clock.Advance(TimeSpan.FromSeconds(1));
                await Task.Delay(20);
                info = await job.GetAsync(org);
            }
        }

        // The last read may be the poll that succeeded and registered the model (it ended the loop): it counts too.
        Record(info);
        void Record(TrainingJobInfo read)
        {
            if (read.LastPolledAt is not null && read.LastPolledAt != polls.LastOrDefault()?.LastPolledAt)
            {
                polls.Add(read);
            }
            else if (read.LastPolledAt is not null && read.Status != polls[^1].Status)
            {
                // The same poll, read again after its turn went on (the status it saw, then the model it registered).
                polls[^1] = read;
            }
        }

        // The sandbox (on the same clock) validates 2 s, queues 3 s, then runs epochs × 10 steps of 0.5 s; the job asked for
        // the epochs it estimated: auto for 10 examples is ⌊100 ÷ 10⌋ = 10, so 100 steps.
        var submittedAt = polls[0].LastPolledAt!.Value;
        polls[^1].TotalSteps.Should().Be(100);
        var finish = submittedAt + TimeSpan.FromSeconds(2 + 3) + 100 * TimeSpan.FromMilliseconds(500);
        (submittedAt - createdAt).Should().BeLessThanOrEqualTo(TimeSpan.FromSeconds(2), "the reminder's first tick (1 s) or the fast poll (2 s) submits");
        // polls[0] is the submission (the provider's answer to the create); the follow-up polls come every 2 s, never sooner.
        polls.Skip(1).Zip(polls.Skip(2), (a, b) => b.LastPolledAt!.Value - a.LastPolledAt!.Value)
            .Should().OnlyContain(gap => gap >= TimeSpan.FromSeconds(2) && gap <= TimeSpan.FromSeconds(3), "a sandbox job is polled every 2 s, never sooner");
        polls.Select(p => p.Status).Distinct().Should().ContainInOrder(
            TrainingJobStatus.Validating, TrainingJobStatus.Queued, TrainingJobStatus.Running, TrainingJobStatus.Succeeded);
        var running = polls.Where(p => p.Status == TrainingJobStatus.Running).ToList();
        running.Select(p => p.EstimatedFinishAt).Should().OnlyContain(eta => eta == finish, "the ETA is the provider's");
        running.Should().OnlyContain(p => p.Progress == Math.Floor((p.LastPolledAt!.Value - submittedAt - TimeSpan.FromSeconds(5)) / TimeSpan.FromMilliseconds(500)) / 100);
        var done = polls[^1];
        done.Status.Should().Be(TrainingJobStatus.Succeeded);
        done.FinishedAt.Should().Be(finish, "the job ended when the provider says, not when it was polled");
        done.LastPolledAt.Should().BeOnOrAfter(finish).And.BeBefore(finish + TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task Transient_faults_back_off_doubling_to_30_minutes_and_after_3_days_the_job_is_given_up()
    {
        var org = await OrganizationAsync();
        var jobId = Guid.NewGuid();
        var job = Grains.GetGrain<ITrainingJobGrain>(jobId);
        fixture.Emulators.OpenAi.Faults.Add(new FaultRule(FaultKinds.ServerError));
        try
        {
            await Grains.GetGrain<ITrainingJobsGrain>(org).CreateAsync(jobId, Request("Unlucky", OpenAiModel));
            var faults = new List<TrainingJobInfo>();
            var info = await job.GetAsync(org);
            while (!info.Status.IsFinal() && faults.Count < 200)
            {
                // Straight to the next attempt, then minute by minute until the reminder has made it.
                if (info.NextPollAt is { } next && next > fixture.Clock.GetUtcNow())
                {
                    fixture.Clock.SetUtcNow(next);
                }
                var seen = info.ConsecutivePollFailures;
                await AdvanceUntilAsync(TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), async () =>
                {
                    info = await job.GetAsync(org);
                    return info.ConsecutivePollFailures > seen || info.Status.IsFinal();
                });
                if (!info.Status.IsFinal())
                {
                    faults.Add(info);
                }
            }

            var backoffs = faults.Select(f => (f.NextPollAt!.Value - f.UpdatedAt).TotalMinutes).ToList();
            backoffs.Take(6).Should().Equal(2, 4, 8, 16, 30, 30);
            backoffs.Skip(4).Should().OnlyContain(m => m == 30, "back-off never exceeds MaxBackoff");
            var firstFault = faults[0].UpdatedAt;
            faults[^1].UpdatedAt.Should().BeBefore(firstFault + TimeSpan.FromDays(3), "no job is given up before three days of faults");
            info.Status.Should().Be(TrainingJobStatus.Failed);
            info.Error!.Code.Should().Be("provider_unreachable");
            info.Error.Permanent.Should().BeFalse("it gave up on a fault that lasted, the provider never refused it");
            info.Error.Message.Should().Contain($"{faults.Count + 1} failed attempts");
            info.FinishedAt!.Value.Should().BeOnOrAfter(firstFault + TimeSpan.FromDays(3)).And.BeBefore(firstFault + TimeSpan.FromDays(3) + TimeSpan.FromMinutes(31));
            fixture.Emulators.OpenAi.Jobs.Should().NotContain(j => j.Metadata != null && j.Metadata.Values.Contains(jobId.ToString("N")), "nothing reached the provider");
        }
        finally
        {
            fixture.Emulators.OpenAi.Faults.Clear();
        }
    }

    [Fact]
    public async Task A_429s_Retry_After_is_waited_out_while_the_reminder_keeps_ticking()
    {
        var org = await OrganizationAsync();
        var jobId = Guid.NewGuid();
        var job = Grains.GetGrain<ITrainingJobGrain>(jobId);
        var requests = fixture.Emulators.OpenAi.Requests;
        // Ten minutes: longer than the 2 minutes the first back-off would wait.
        fixture.Emulators.OpenAi.Faults.Add(new FaultRule(FaultKinds.RateLimit, Count: 1, RetryAfterSeconds: 600));
        try
        {
            await Grains.GetGrain<ITrainingJobsGrain>(org).CreateAsync(jobId, Request("Throttled", OpenAiModel));
            TrainingJobInfo info = null!;
            await AdvanceUntilAsync(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), async () => (info = await job.GetAsync(org)).ConsecutivePollFailures == 1);
            var throttledAt = info.UpdatedAt;
            info.NextPollAt.Should().Be(throttledAt + TimeSpan.FromMinutes(10));
            var before = requests.All.Count;

            for (var minute = 1; minute <= 9; minute++)
            {
                fixture.Clock.SetUtcNow(throttledAt + TimeSpan.FromMinutes(minute));
                // Real time for a wrongly early attempt to show up, were there one.
                await Task.Delay(300);
            }
            requests.All.Count.Should().Be(before, "no call goes to the provider before Retry-After has passed");

            fixture.Clock.SetUtcNow(throttledAt + TimeSpan.FromMinutes(10));
            await AdvanceUntilAsync(TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2), async () => (info = await job.GetAsync(org)).ProviderJobId is not null);
            info.ConsecutivePollFailures.Should().Be(0);
            // Submitted at the first tick from Retry-After's end (on a loaded machine the clock may have moved on a minute
            // while that tick's calls were in flight, so the poll is stamped up to two minutes later).
            info.LastPolledAt.Should().BeOnOrAfter(throttledAt + TimeSpan.FromMinutes(10)).And.BeBefore(throttledAt + TimeSpan.FromMinutes(12));
        }
        finally
        {
            fixture.Emulators.OpenAi.Faults.Clear();
        }
    }

    /// <summary>
    /// Checks <paramref name="done"/>, giving the silo a moment of real time after each move of the clock by
    /// <paramref name="step"/>, until it holds or the clock has moved <paramref name="within"/>.
    /// </summary>
    private async Task AdvanceUntilAsync(TimeSpan step, TimeSpan within, Func<Task<bool>> done)
    {
        var until = fixture.Clock.GetUtcNow() + within;
        while (true)
        {
            // Reminder and timer callbacks run on the silo's threads: wait (real time) for them to land.
            var settle = Stopwatch.StartNew();
            while (settle.Elapsed < TimeSpan.FromMilliseconds(300))
            {
                if (await done())
                {
                    return;
                }
                await Task.Delay(20);
            }
            if (fixture.Clock.GetUtcNow() + step > until)
            {
                throw new Xunit.Sdk.XunitException($"not done within {within} of fake time");
            }
            fixture.Clock.Advance(step);
        }
    }

    private Task<Guid> OrganizationAsync() => OrganizationAsync(Grains);

    /// <summary>A Business organization holding 10 validated examples.</summary>
    internal static async Task<Guid> OrganizationAsync(IGrainFactory grains)
    {
        var org = Guid.NewGuid();
        await grains.GetGrain<IOrganizationGrain>(org).CreateAsync($"Clock {org:N}", "business");
        var examples = grains.GetGrain<ITrainingExamplesGrain>(org);
        var ids = new List<Guid>();
        for (var i = 0; i < 10; i++)
        {
            ids.Add((await examples.CreateAsync(new NewExample(
                $$"""{"messages":[{"role":"user","content":"Tick {{i}}"},{"role":"assistant","content":"Tock {{i}}"}]}""", null, [], null))).Id);
        }
        await examples.BulkValidateAsync(ids, "clock-test", 1m);
        return org;
    }

    internal static NewTrainingJob Request(string name, string baseModel) =>
        new(name, baseModel, null, null, 0, 42, new JobHyperparameters(null, null, null, null), "clock-test");
}
