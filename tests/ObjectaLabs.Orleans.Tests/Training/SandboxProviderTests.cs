using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ObjectaLabs.Orleans.Providers;
using ObjectaLabs.Orleans.Providers.Accounts;
using ObjectaLabs.Orleans.Providers.Sandbox;
using ObjectaLabs.Orleans.Tests.Infrastructure;

namespace ObjectaLabs.Orleans.Tests.Training;

/// <summary>The simulated provider on the real database, its clock faked so each phase is stepped through exactly.</summary>
public sealed class SandboxProviderTests : IAsyncLifetime
{
    // validating 2 s, queued 3 s, then 3 epochs × 10 steps of 500 ms: running from 5 s, done at 20 s.
    private static readonly SandboxProviderOptions Timing = new();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private TestDatabase _db = null!;
    private ProviderAccount Account => ProviderAccounts.Sandbox;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private SandboxProvider NewProvider() => new(_db.DataSource, Options.Create(Timing), _clock);

    private static ProviderJobRequest Request(string reference, string? suffix = "support", string? validation = "file-v") =>
        new(reference, "meta-llama/Llama-3.2-1B", "file-t", validation, suffix, 7, new Hyperparameters(null, null, null, null, null, null, null, null, null), 1_000, 100);

    [Fact]
    public async Task A_job_validates_queues_runs_with_falling_loss_and_succeeds_with_a_simulated_model()
    {
        var sandbox = NewProvider();
        var job = await sandbox.CreateJobAsync(Account, Request("job-1"), default);
        job.Status.Should().Be(ProviderJobStatus.Validating);
        job.Id.Should().StartWith("ftjob-sandbox-simulated-");

        _clock.Advance(TimeSpan.FromSeconds(3));
        (await sandbox.GetJobAsync(Account, job.Id, default)).Status.Should().Be(ProviderJobStatus.Queued);

        _clock.Advance(TimeSpan.FromSeconds(7)); // 10 s: 5 s of running = step 10 of 30
        var running = await sandbox.GetJobAsync(Account, job.Id, default);
        running.Status.Should().Be(ProviderJobStatus.Running);
        running.Step.Should().Be(10);
        running.TotalSteps.Should().Be(30);
        running.FineTunedModel.Should().BeNull();

        _clock.Advance(TimeSpan.FromSeconds(10));
        var done = await sandbox.GetJobAsync(Account, job.Id, default);
        done.Status.Should().Be(ProviderJobStatus.Succeeded);
        done.FineTunedModel.Should().StartWith("ft:sandbox-simulated:meta-llama/Llama-3.2-1B:support:");
        done.TrainedTokens.Should().Be(3_000, "1,000 training tokens × 3 default epochs");

        var events = new List<ProviderEvent>();
        string? cursor = null;
        while (true)
        {
            var page = await sandbox.ListEventsAsync(Account, job.Id, cursor, default);
            if (page.Events.Count == 0) { break; }
            events.AddRange(page.Events);
            cursor = page.NextCursor;
        }
        events.Should().OnlyContain(e => e.Message.StartsWith("[simulated]"));
        var losses = events.Where(e => e.TrainLoss is not null).ToList();
        losses.Should().HaveCount(30);
        losses.Last().TrainLoss.Should().BeLessThan(losses.First().TrainLoss!.Value - 1.0);
        losses.Last().ValidationLoss.Should().BeLessThan(losses.First().ValidationLoss!.Value - 1.0);
        events.Last().Message.Should().Contain("succeeded");

        var checkpoints = await sandbox.ListCheckpointsAsync(Account, job.Id, default);
        checkpoints.Select(c => c.Step).Should().Equal(10, 20, 30);
        checkpoints.Should().OnlyContain(c => c.Model!.StartsWith("ft:sandbox-simulated:"));
    }

    [Fact]
    public async Task State_lives_in_the_database_so_a_new_provider_instance_answers_the_same_and_finds_the_job_by_reference()
    {
        var first = NewProvider();
        var created = await first.CreateJobAsync(Account, Request("job-crash"), default);
        _clock.Advance(TimeSpan.FromSeconds(12));

        var afterCrash = NewProvider();
        var found = await afterCrash.FindJobByReferenceAsync(Account, "job-crash", "support", default);
        found!.Id.Should().Be(created.Id);
        found.Step.Should().Be(14);
        (await afterCrash.FindJobByReferenceAsync(Account, "no-such-job", null, default)).Should().BeNull();

        var again = await afterCrash.CreateJobAsync(Account, Request("job-crash"), default);
        again.Id.Should().Be(created.Id, "one job per reference, however often it is created");
    }

    [Fact]
    public async Task The_fail_switch_fails_half_way_with_a_simulated_message()
    {
        var sandbox = NewProvider();
        var job = await sandbox.CreateJobAsync(Account, Request("job-fail", suffix: "x-simulate-fail"), default);
        _clock.Advance(TimeSpan.FromSeconds(9)); // step 8 of 30: still running
        (await sandbox.GetJobAsync(Account, job.Id, default)).Status.Should().Be(ProviderJobStatus.Running);
        _clock.Advance(TimeSpan.FromSeconds(4)); // step 16: past 15
        var failed = await sandbox.GetJobAsync(Account, job.Id, default);
        failed.Status.Should().Be(ProviderJobStatus.Failed);
        failed.Step.Should().Be(15);
        failed.ErrorMessage.Should().Be(SandboxProvider.SimulatedFailureMessage);
        failed.FineTunedModel.Should().BeNull();
    }

    [Fact]
    public async Task The_slow_switch_stretches_every_phase()
    {
        var sandbox = NewProvider();
        var job = await sandbox.CreateJobAsync(Account, Request("job-slow", suffix: "simulate-slow"), default);
        _clock.Advance(TimeSpan.FromSeconds(30)); // a normal job would be done; slow validates for 40 s
        (await sandbox.GetJobAsync(Account, job.Id, default)).Status.Should().Be(ProviderJobStatus.Validating);
    }

    [Fact]
    public async Task Cancel_stops_a_running_job_at_its_step_and_a_finished_job_stays_finished()
    {
        var sandbox = NewProvider();
        var job = await sandbox.CreateJobAsync(Account, Request("job-cancel"), default);
        _clock.Advance(TimeSpan.FromSeconds(8)); // step 6
        await sandbox.CancelJobAsync(Account, job.Id, default);
        _clock.Advance(TimeSpan.FromSeconds(1));
        var cancelled = await sandbox.GetJobAsync(Account, job.Id, default);
        cancelled.Status.Should().Be(ProviderJobStatus.Cancelled);
        cancelled.Step.Should().Be(6);
        _clock.Advance(TimeSpan.FromMinutes(5));
        (await sandbox.GetJobAsync(Account, job.Id, default)).Status.Should().Be(ProviderJobStatus.Cancelled);

        var other = await sandbox.CreateJobAsync(Account, Request("job-done"), default);
        _clock.Advance(TimeSpan.FromSeconds(25));
        await sandbox.CancelJobAsync(Account, other.Id, default);
        _clock.Advance(TimeSpan.FromSeconds(1));
        (await sandbox.GetJobAsync(Account, other.Id, default)).Status.Should().Be(ProviderJobStatus.Succeeded);

        var unknown = () => sandbox.GetJobAsync(Account, "ftjob-sandbox-simulated-nope", default);
        (await unknown.Should().ThrowAsync<ProviderException>()).Which.Kind.Should().Be(ProviderFaultKind.NotFound);
    }

    [Fact]
    public async Task A_re_upload_of_the_same_bytes_is_found_by_name_and_hash()
    {
        var sandbox = NewProvider();
        var bytes = Encoding.UTF8.GetBytes("{\"messages\":[]}\n");
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        (await sandbox.FindFileAsync(Account, "train.jsonl", sha, default)).Should().BeNull();
        var file = await sandbox.UploadFileAsync(Account, "train.jsonl", (s, ct) => s.WriteAsync(bytes, ct).AsTask(), sha, default);
        file.Bytes.Should().Be(bytes.Length);
        file.Id.Should().StartWith("file-sandbox-simulated-");
        (await sandbox.FindFileAsync(Account, "train.jsonl", sha, default))!.Id.Should().Be(file.Id);
        (await sandbox.FindFileAsync(Account, "train.jsonl", new string('0', 64), default)).Should().BeNull();
    }
}
