using System.Text.Json;
using ObjectaLabs.Orleans.ProviderEmulators;
using ObjectaLabs.Orleans.Providers;
using ObjectaLabs.Orleans.Providers.Together;

namespace ObjectaLabs.Orleans.Tests.Providers;

/// <summary>The Together provider (typed HttpClient with its resilience pipeline), over real HTTP to the Together emulator.</summary>
public sealed class TogetherProviderTests(ProviderTestHost host) : IClassFixture<ProviderTestHost>
{
    private const string Model = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference";

    private TogetherProvider Provider => host.Together;
    private ProviderAccount Account => host.TogetherAccount;
    private TogetherEmulator Emulator => host.Emulators.Together;

    private static readonly Hyperparameters Lora = new(3, 16, null, 0.0002, true, 16, 32, 0.05, 2);

    private async Task<ProviderFile> UploadAsync(string marker)
    {
        var (write, sha) = ProviderTestHost.Jsonl(20, marker);
        return await Provider.UploadFileAsync(Account, "train.jsonl", write, sha, default);
    }

    private async Task<ProviderJob> CreateAsync(string reference, Hyperparameters? hyper = null, string? suffix = "support")
    {
        var file = await UploadAsync(reference);
        return await Provider.CreateJobAsync(Account, new ProviderJobRequest(reference, Model, file.Id, null, suffix, 7, hyper ?? Lora, 1000, 0), default);
    }

    private int Requests(string pathPart) => Emulator.Requests.All.Count(r => r.Path.Contains(pathPart, StringComparison.Ordinal));

    [Fact]
    public async Task Upload_streams_multipart_under_a_name_carrying_the_hash_and_find_file_reuses_it()
    {
        var (write, sha) = ProviderTestHost.Jsonl(25, "tg-upload-" + Guid.NewGuid());

        var uploaded = await Provider.UploadFileAsync(Account, "train.jsonl", write, sha, default);
        var found = await Provider.FindFileAsync(Account, "train.jsonl", sha, default);
        var none = await Provider.FindFileAsync(Account, "train.jsonl", new string('1', 64), default);

        uploaded.FileName.Should().Be($"train.{sha}.jsonl");
        Emulator.Files.Single(f => f.Id == uploaded.Id).Lines.Should().Be(25);
        found!.Id.Should().Be(uploaded.Id);
        none.Should().BeNull();
    }

    [Fact]
    public async Task Create_sends_epochs_learning_rate_batch_size_lora_parameters_evaluations_and_a_suffix_carrying_the_reference()
    {
        var reference = "job-" + Guid.NewGuid();
        var file = await UploadAsync(reference);
        var validation = await UploadAsync(reference + "-validation");

        var job = await Provider.CreateJobAsync(Account, new ProviderJobRequest(reference, Model, file.Id, validation.Id, "Support Bot v2!", 7, Lora, 1000, 100), default);

        var body = JsonDocument.Parse(Emulator.Requests.All.Last(r => r.Method == "POST" && r.Path == "/v1/fine-tunes").Body!).RootElement;
        body.GetProperty("n_epochs").GetInt32().Should().Be(3);
        body.GetProperty("learning_rate").GetDouble().Should().Be(0.0002);
        body.GetProperty("batch_size").GetInt32().Should().Be(16);
        body.GetProperty("n_evals").GetInt32().Should().Be(2);
        body.GetProperty("validation_file").GetString().Should().Be(validation.Id);
        body.GetProperty("random_seed").GetInt32().Should().Be(7);
        var type = body.GetProperty("training_type");
        type.GetProperty("type").GetString().Should().Be("Lora");
        type.GetProperty("lora_r").GetInt32().Should().Be(16);
        type.GetProperty("lora_alpha").GetInt32().Should().Be(32);
        type.GetProperty("lora_dropout").GetDouble().Should().Be(0.05);
        var suffix = body.GetProperty("suffix").GetString()!;
        suffix.Should().StartWith("support-bot-v2").And.EndWith(TogetherJson.ReferenceToken(reference));
        suffix.Length.Should().BeLessThanOrEqualTo(TogetherJson.MaxSuffixLength);
        job.Status.Should().Be(ProviderJobStatus.Queued);
        job.RawStatus.Should().Be("pending");
        job.Reference.Should().Be(reference);
    }

    [Fact]
    public async Task Full_training_and_max_batch_size_are_sent_as_together_spells_them()
    {
        var reference = "job-" + Guid.NewGuid();

        await CreateAsync(reference, new Hyperparameters(null, null, null, null, false, null, null, null, null), suffix: null);

        var body = JsonDocument.Parse(Emulator.Requests.All.Last(r => r.Method == "POST" && r.Path == "/v1/fine-tunes").Body!).RootElement;
        body.GetProperty("training_type").GetProperty("type").GetString().Should().Be("Full");
        body.GetProperty("batch_size").GetString().Should().Be("max");
        body.GetProperty("suffix").GetString().Should().Be(TogetherJson.ReferenceToken(reference));
        body.TryGetProperty("n_epochs", out _).Should().BeFalse("Together's default applies");
    }

    [Fact]
    public async Task A_job_runs_to_completed_with_events_after_a_cursor_without_duplicates_losses_and_checkpoints()
    {
        var created = await CreateAsync("job-" + Guid.NewGuid());

        var first = await Provider.ListEventsAsync(Account, created.Id, null, default);
        host.Advance(7);
        var running = await Provider.GetJobAsync(Account, created.Id, default);
        var second = await Provider.ListEventsAsync(Account, created.Id, first.NextCursor, default);
        host.Advance(7);
        var compressing = await Provider.GetJobAsync(Account, created.Id, default);
        host.Advance(2);
        var done = await Provider.GetJobAsync(Account, created.Id, default);
        var third = await Provider.ListEventsAsync(Account, created.Id, second.NextCursor, default);
        var again = await Provider.ListEventsAsync(Account, created.Id, third.NextCursor, default);
        var checkpoints = await Provider.ListCheckpointsAsync(Account, created.Id, default);

        first.Events.Select(e => e.Type).Should().Equal("job_pending");
        running.Status.Should().Be(ProviderJobStatus.Running);
        running.StartedAt.Should().NotBeNull();
        running.EstimatedFinish.Should().NotBeNull();
        compressing.RawStatus.Should().Be("compressing");
        compressing.Status.Should().Be(ProviderJobStatus.Running);
        var all = first.Events.Concat(second.Events).Concat(third.Events).ToList();
        all.Select(e => e.Id).Should().OnlyHaveUniqueItems();
        all.Select(e => e.Type).Should().Contain(["job_start", "training_start", "epoch_complete", "checkpoint_save", "model_uploading", "job_complete"]);
        var losses = all.Where(e => e.TrainLoss is not null).ToList();
        losses.Should().HaveCount(3);
        losses[^1].TrainLoss.Should().BeLessThan(losses[0].TrainLoss!.Value);
        losses.Should().OnlyContain(e => e.ValidationLoss > e.TrainLoss);
        again.Events.Should().BeEmpty();
        done.Status.Should().Be(ProviderJobStatus.Succeeded);
        done.RawStatus.Should().Be("completed");
        done.FineTunedModel.Should().StartWith("emulator/");
        done.TrainedTokens.Should().BeGreaterThan(0);
        done.FinishedAt.Should().NotBeNull();
        done.CreatedAt.Should().NotBeNull();
        checkpoints.Select(c => c.Step).Should().Equal(4, 8, 12);
    }

    [Fact]
    public async Task Find_by_reference_matches_the_suffix_and_nothing_for_another_reference()
    {
        var reference = "job-" + Guid.NewGuid();
        var created = await CreateAsync(reference);
        await CreateAsync("job-" + Guid.NewGuid());

        var found = await Provider.FindJobByReferenceAsync(Account, reference, null, default);
        var none = await Provider.FindJobByReferenceAsync(Account, "job-" + Guid.NewGuid(), null, default);

        found!.Id.Should().Be(created.Id);
        found.Reference.Should().Be(reference);
        none.Should().BeNull();
    }

    [Fact]
    public async Task Cancel_is_followed_from_cancel_requested_to_cancelled()
    {
        var created = await CreateAsync("job-" + Guid.NewGuid());
        host.Advance(3);

        var requested = await Provider.CancelJobAsync(Account, created.Id, default);
        host.Advance(1);
        var cancelled = await Provider.GetJobAsync(Account, created.Id, default);

        requested.RawStatus.Should().Be("cancel_requested");
        requested.Status.Should().Be(ProviderJobStatus.Running);
        cancelled.Status.Should().Be(ProviderJobStatus.Cancelled);
    }

    [Fact]
    public async Task The_price_estimate_is_togethers_own()
    {
        var reference = "job-" + Guid.NewGuid();
        var file = await UploadAsync(reference);

        var estimate = await Provider.EstimatePriceAsync(Account, new ProviderJobRequest(reference, Model, file.Id, null, null, null, Lora, 1000, 0), default);

        var trainTokens = Emulator.Files.Single(f => f.Id == file.Id).Content.Length / 4 * 3;
        estimate!.TrainTokens.Should().Be(trainTokens);
        estimate.TotalUsd.Should().Be(Math.Round(trainTokens * TogetherEmulator.PricePerMillionTokens / 1_000_000m, 6));
        estimate.AllowedToProceed.Should().BeTrue();
    }

    [Fact]
    public async Task An_unreachable_price_estimate_is_null_not_zero()
    {
        var reference = "job-" + Guid.NewGuid();
        var file = await UploadAsync(reference);
        Emulator.Faults.Add(new FaultRule(FaultKinds.ServerError, Count: 1, Path: "/estimate-price", Status: 503));

        var estimate = await Provider.EstimatePriceAsync(Account, new ProviderJobRequest(reference, Model, file.Id, null, null, null, Lora, 1000, 0), default);

        estimate.Should().BeNull();
    }

    [Fact]
    public async Task A_job_that_fails_reports_failed_with_the_providers_message()
    {
        Emulator.Faults.Add(new FaultRule(FaultKinds.FailJob, Count: 1, Message: "Training failed: line 3 is not valid JSON."));
        var created = await CreateAsync("job-" + Guid.NewGuid());
        host.Advance(30);

        var failed = await Provider.GetJobAsync(Account, created.Id, default);

        failed.Status.Should().Be(ProviderJobStatus.Failed);
        failed.RawStatus.Should().Be("error");
        failed.ErrorMessage.Should().Be("Training failed: line 3 is not valid JSON.");
        failed.FineTunedModel.Should().BeNull();
    }

    [Fact]
    public async Task The_pipeline_retries_a_transient_fault_on_a_read_and_succeeds()
    {
        var created = await CreateAsync("job-" + Guid.NewGuid());
        Emulator.Faults.Add(new FaultRule(FaultKinds.ServerError, Count: 1, Path: created.Id, Status: 503));
        Emulator.Faults.Add(new FaultRule(FaultKinds.RateLimit, Count: 1, Path: created.Id, RetryAfterSeconds: 0));
        var before = Requests(created.Id);

        var job = await Provider.GetJobAsync(Account, created.Id, default);

        job.Id.Should().Be(created.Id);
        Requests(created.Id).Should().Be(before + 3);
    }

    [Fact]
    public async Task The_pipeline_gives_up_after_its_retries_with_a_transient_fault()
    {
        var created = await CreateAsync("job-" + Guid.NewGuid());
        Emulator.Faults.Add(new FaultRule(FaultKinds.ServerError, Path: created.Id, Status: 500));
        var before = Requests(created.Id);

        var fault = await Provider.Invoking(p => p.GetJobAsync(Account, created.Id, default)).Should().ThrowAsync<ProviderException>();

        fault.Which.Kind.Should().Be(ProviderFaultKind.Transient);
        fault.Which.HttpStatus.Should().Be(500);
        Requests(created.Id).Should().Be(before + 3, "one attempt and two retries");
    }

    [Fact]
    public async Task A_rate_limit_longer_than_the_inline_wait_goes_back_as_transient_with_retry_after()
    {
        var created = await CreateAsync("job-" + Guid.NewGuid());
        Emulator.Faults.Add(new FaultRule(FaultKinds.RateLimit, Count: 5, Path: created.Id, RetryAfterSeconds: 30));
        var before = Requests(created.Id);

        var fault = await Provider.Invoking(p => p.GetJobAsync(Account, created.Id, default)).Should().ThrowAsync<ProviderException>();

        fault.Which.Kind.Should().Be(ProviderFaultKind.Transient);
        fault.Which.HttpStatus.Should().Be(429);
        fault.Which.RetryAfter.Should().Be(TimeSpan.FromSeconds(30));
        Requests(created.Id).Should().Be(before + 1, "30 s is not waited out inside one call");
    }

    [Fact]
    public async Task A_create_is_never_retried_by_the_pipeline()
    {
        var reference = "job-" + Guid.NewGuid();
        var file = await UploadAsync(reference);
        Emulator.Faults.Add(new FaultRule(FaultKinds.ServerError, Count: 1, Path: "/v1/fine-tunes", Method: "POST", Status: 502));

        var fault = await Provider.Invoking(p => p.CreateJobAsync(Account, new ProviderJobRequest(reference, Model, file.Id, null, null, null, Lora, 0, 0), default))
            .Should().ThrowAsync<ProviderException>();

        fault.Which.IsTransient.Should().BeTrue();
        Emulator.Requests.All.Count(r => r.Method == "POST" && r.Path == "/v1/fine-tunes" && r.Body!.Contains(file.Id, StringComparison.Ordinal)).Should().Be(1);
    }

    [Fact]
    public async Task An_answer_slower_than_the_attempt_timeout_is_transient_after_the_retries()
    {
        var created = await CreateAsync("job-" + Guid.NewGuid());
        Emulator.Faults.Add(new FaultRule(FaultKinds.Slow, Count: 3, Path: created.Id, DelayMilliseconds: (int)(ProviderTestHost.Timeout.TotalMilliseconds * 3)));

        var fault = await Provider.Invoking(p => p.GetJobAsync(Account, created.Id, default)).Should().ThrowAsync<ProviderException>();

        fault.Which.Kind.Should().Be(ProviderFaultKind.Transient);
        fault.Which.Message.Should().Contain("in time");
    }

    [Fact]
    public async Task A_malformed_answer_is_transient()
    {
        var created = await CreateAsync("job-" + Guid.NewGuid());
        Emulator.Faults.Add(new FaultRule(FaultKinds.Malformed, Count: 1, Path: created.Id + "/events"));

        var fault = await Provider.Invoking(p => p.ListEventsAsync(Account, created.Id, null, default)).Should().ThrowAsync<ProviderException>();

        fault.Which.Kind.Should().Be(ProviderFaultKind.Transient);
        fault.Which.Message.Should().Contain("malformed");
    }

    [Fact]
    public async Task A_refused_account_is_permission_denied_naming_the_alternatives()
    {
        var created = await CreateAsync("job-" + Guid.NewGuid());
        Emulator.Faults.Add(new FaultRule(FaultKinds.PermissionDenied, Count: 1, Path: created.Id));

        var fault = await Provider.Invoking(p => p.GetJobAsync(Account, created.Id, default)).Should().ThrowAsync<ProviderException>();

        fault.Which.Kind.Should().Be(ProviderFaultKind.PermissionDenied);
        fault.Which.HttpStatus.Should().Be(403);
        fault.Which.Message.Should().Contain("sandbox");
    }

    [Fact]
    public async Task An_invalid_training_file_is_permanent_and_an_unknown_job_not_found()
    {
        var invalid = await Provider.Invoking(p => p.CreateJobAsync(Account, new ProviderJobRequest("job-" + Guid.NewGuid(), Model, "file-missing", null, null, null, Lora, 0, 0), default))
            .Should().ThrowAsync<ProviderException>();
        var unknown = await Provider.Invoking(p => p.GetJobAsync(Account, "ft-unknown", default)).Should().ThrowAsync<ProviderException>();

        invalid.Which.Kind.Should().Be(ProviderFaultKind.Permanent);
        invalid.Which.Message.Should().Be("training_file file-missing does not exist");
        unknown.Which.Kind.Should().Be(ProviderFaultKind.NotFound);
    }

    [Theory]
    [InlineData("pending", ProviderJobStatus.Queued)]
    [InlineData("queued", ProviderJobStatus.Queued)]
    [InlineData("running", ProviderJobStatus.Running)]
    [InlineData("compressing", ProviderJobStatus.Running)]
    [InlineData("uploading", ProviderJobStatus.Running)]
    [InlineData("cancel_requested", ProviderJobStatus.Running)]
    [InlineData("completed", ProviderJobStatus.Succeeded)]
    [InlineData("error", ProviderJobStatus.Failed)]
    [InlineData("cancelled", ProviderJobStatus.Cancelled)]
    [InlineData("hibernating", ProviderJobStatus.Unknown)]
    public void Statuses_map_to_ours_and_unknown_ones_are_kept(string raw, ProviderJobStatus expected)
    {
        using var json = JsonDocument.Parse($$"""{"id":"ft-1","status":"{{raw}}","created_at":"2026-05-17T17:35:45.123Z","updated_at":"2026-05-17T18:46:23Z"}""");

        var job = TogetherJson.Job(json.RootElement, DateTimeOffset.UtcNow);

        job.Status.Should().Be(expected);
        job.RawStatus.Should().Be(raw);
        job.CreatedAt.Should().Be(new DateTimeOffset(2026, 5, 17, 17, 35, 45, 123, TimeSpan.Zero));
    }
}
