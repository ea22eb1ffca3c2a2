using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ObjectaLabs.Orleans.ProviderEmulators;
using ObjectaLabs.Orleans.Providers;
using ObjectaLabs.Orleans.Providers.OpenAi;

namespace ObjectaLabs.Orleans.Tests.Providers;

/// <summary>The OpenAI provider through the official SDK, over real HTTP to the OpenAI emulator.</summary>
public sealed class OpenAiProviderTests(ProviderTestHost host) : IClassFixture<ProviderTestHost>
{
    private OpenAiProvider Provider => host.OpenAi;
    private ProviderAccount Account => host.OpenAiAccount;
    private OpenAiEmulator Emulator => host.Emulators.OpenAi;

    private async Task<ProviderJob> CreateAsync(string reference, Hyperparameters? hyper = null)
    {
        var (write, sha) = ProviderTestHost.Jsonl(20, reference);
        var file = await Provider.UploadFileAsync(Account, "train.jsonl", write, sha, default);
        return await Provider.CreateJobAsync(Account, new ProviderJobRequest(reference, "gpt-4o-mini-2024-07-18", file.Id, null, "support", 42,
            hyper ?? new Hyperparameters(3, null, null, null, null, null, null, null, null), 1000, 0), default);
    }

    [Fact]
    public async Task Upload_streams_the_file_under_a_name_carrying_its_hash_and_find_file_reuses_it()
    {
        var (write, sha) = ProviderTestHost.Jsonl(30, "upload-" + Guid.NewGuid());

        var uploaded = await Provider.UploadFileAsync(Account, "train.jsonl", write, sha, default);
        var found = await Provider.FindFileAsync(Account, "train.jsonl", sha, default);
        var other = await Provider.FindFileAsync(Account, "train.jsonl", new string('0', 64), default);

        uploaded.FileName.Should().Be($"train.{sha}.jsonl");
        uploaded.Bytes.Should().BeGreaterThan(0);
        Emulator.Files.Single(f => f.Id == uploaded.Id).Purpose.Should().Be("fine-tune");
        Emulator.Files.Single(f => f.Id == uploaded.Id).Lines.Should().Be(30);
        found.Should().NotBeNull();
        found!.Id.Should().Be(uploaded.Id);
        other.Should().BeNull();
    }

    [Fact]
    public async Task Create_sends_supervised_method_hyperparameters_suffix_seed_and_our_reference_in_metadata()
    {
        var reference = "job-" + Guid.NewGuid();

        var job = await CreateAsync(reference, new Hyperparameters(3, null, 1.8, null, null, null, null, null, null));

        var body = JsonDocument.Parse(Emulator.Requests.All.Last(r => r.Method == "POST" && r.Path == "/v1/fine_tuning/jobs").Body!).RootElement;
        body.GetProperty("metadata").GetProperty(OpenAiJson.ReferenceKey).GetString().Should().Be(reference);
        body.GetProperty("suffix").GetString().Should().Be("support");
        body.GetProperty("seed").GetInt32().Should().Be(42);
        var hyper = body.GetProperty("method").GetProperty("supervised").GetProperty("hyperparameters");
        body.GetProperty("method").GetProperty("type").GetString().Should().Be("supervised");
        hyper.GetProperty("n_epochs").GetInt32().Should().Be(3);
        hyper.GetProperty("batch_size").GetString().Should().Be("auto");
        hyper.GetProperty("learning_rate_multiplier").GetDouble().Should().Be(1.8);
        job.Status.Should().Be(ProviderJobStatus.Validating);
        job.RawStatus.Should().Be("validating_files");
        job.Reference.Should().Be(reference);
        job.CreatedAt.Should().NotBeNull();
    }

    [Fact]
    public async Task A_job_runs_to_success_with_events_paged_after_a_cursor_checkpoints_and_what_the_sdk_hides()
    {
        var created = await CreateAsync("job-" + Guid.NewGuid());

        var first = await Provider.ListEventsAsync(Account, created.Id, null, default);
        host.Advance(6);
        var running = await Provider.GetJobAsync(Account, created.Id, default);
        var second = await Provider.ListEventsAsync(Account, created.Id, first.NextCursor, default);
        host.Advance(20);
        var done = await Provider.GetJobAsync(Account, created.Id, default);
        var third = await Provider.ListEventsAsync(Account, created.Id, second.NextCursor, default);
        var again = await Provider.ListEventsAsync(Account, created.Id, third.NextCursor, default);
        var checkpoints = await Provider.ListCheckpointsAsync(Account, created.Id, default);

        first.Events[0].Message.Should().StartWith("Created fine-tuning job");
        running.Status.Should().Be(ProviderJobStatus.Running);
        second.Events.Should().NotBeEmpty().And.NotContain(e => first.Events.Select(f => f.Id).Contains(e.Id));
        var all = first.Events.Concat(second.Events).Concat(third.Events).ToList();
        all.Select(e => e.Id).Should().OnlyHaveUniqueItems();
        all.Select(e => e.CreatedAt).Should().BeInAscendingOrder();
        // More events than one page (5): the provider followed has_more with after=<last id>.
        Emulator.Requests.All.Should().Contain(r => r.Path.EndsWith("/events", StringComparison.Ordinal) && r.Query.Contains("after=", StringComparison.Ordinal));
        var losses = all.Where(e => e.Type == "metrics").Select(e => e.TrainLoss!.Value).ToList();
        losses.Should().HaveCount(12);
        losses[^1].Should().BeLessThan(losses[0]);
        all.Where(e => e.Type == "metrics").Should().OnlyContain(e => e.ValidationLoss > 0 && e.TotalSteps == 12 && e.Step > 0);
        again.Events.Should().BeEmpty();
        again.NextCursor.Should().Be(third.NextCursor);
        done.Status.Should().Be(ProviderJobStatus.Succeeded);
        done.FineTunedModel.Should().StartWith("ft:gpt-4o-mini-2024-07-18:");
        done.TrainedTokens.Should().BeGreaterThan(0, "trained_tokens is read from the raw JSON (the SDK's BillableTrainedTokenCount is always 0)");
        done.FinishedAt.Should().BeAfter(done.CreatedAt!.Value);
        done.ErrorMessage.Should().BeNull();
        checkpoints.Select(c => c.Step).Should().Equal(4, 8, 12);
        checkpoints.Should().OnlyContain(c => c.Model!.Contains("ckpt-step-", StringComparison.Ordinal) && c.TrainLoss > 0);
    }

    [Fact]
    public async Task Find_by_reference_finds_the_job_created_for_it_across_pages_and_nothing_for_another()
    {
        var reference = "job-" + Guid.NewGuid();
        var created = await CreateAsync(reference);
        for (var i = 0; i < 6; i++)
        {
            await CreateAsync("job-" + Guid.NewGuid());
        }

        var found = await Provider.FindJobByReferenceAsync(Account, reference, null, default);
        var none = await Provider.FindJobByReferenceAsync(Account, "job-" + Guid.NewGuid(), null, default);

        found.Should().NotBeNull();
        found!.Id.Should().Be(created.Id);
        found.Reference.Should().Be(reference);
        none.Should().BeNull();
        Emulator.Requests.All.Should().Contain(r => r.Path == "/v1/fine_tuning/jobs" && r.Method == "GET"
            && r.Query.Contains($"metadata%5B{OpenAiJson.ReferenceKey}%5D=", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Cancel_moves_the_job_to_cancelled()
    {
        var created = await CreateAsync("job-" + Guid.NewGuid());
        host.Advance(3);

        var cancelled = await Provider.CancelJobAsync(Account, created.Id, default);
        var after = await Provider.GetJobAsync(Account, created.Id, default);

        cancelled.Status.Should().Be(ProviderJobStatus.Cancelled);
        after.Status.Should().Be(ProviderJobStatus.Cancelled);
        Emulator.Requests.All.Should().Contain(r => r.Method == "POST" && r.Path == $"/v1/fine_tuning/jobs/{created.Id}/cancel");
    }

    [Fact]
    public async Task A_paused_job_is_kept_as_unknown_with_its_raw_status()
    {
        var created = await CreateAsync("job-" + Guid.NewGuid());
        host.Advance(3);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new("Bearer", "sk-test");
        (await http.PostAsync(new Uri(host.Emulators.OpenAiBaseUrl + $"/fine_tuning/jobs/{created.Id}/pause"), null)).EnsureSuccessStatusCode();

        var paused = await Provider.GetJobAsync(Account, created.Id, default);

        paused.Status.Should().Be(ProviderJobStatus.Unknown);
        paused.RawStatus.Should().Be("paused");
    }

    [Fact]
    public async Task A_job_that_fails_reports_failed_with_the_providers_message()
    {
        Emulator.Faults.Add(new FaultRule(FaultKinds.FailJob, Count: 1, Message: "Training file has 3 examples with no assistant message.", Code: "invalid_training_file"));
        var created = await CreateAsync("job-" + Guid.NewGuid());
        host.Advance(30);

        var failed = await Provider.GetJobAsync(Account, created.Id, default);

        failed.Status.Should().Be(ProviderJobStatus.Failed);
        failed.ErrorMessage.Should().Be("Training file has 3 examples with no assistant message.");
        failed.ErrorCode.Should().Be("invalid_training_file");
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    public async Task A_server_error_is_transient_and_not_retried_by_the_sdk(int status)
    {
        var created = await CreateAsync("job-" + Guid.NewGuid());
        Emulator.Faults.Add(new FaultRule(FaultKinds.ServerError, Count: 1, Path: created.Id, Status: status));
        var before = Emulator.Requests.All.Count(r => r.Path.Contains(created.Id, StringComparison.Ordinal));

        var fault = await Provider.Invoking(p => p.GetJobAsync(Account, created.Id, default)).Should().ThrowAsync<ProviderException>();

        fault.Which.Kind.Should().Be(ProviderFaultKind.Transient);
        fault.Which.HttpStatus.Should().Be(status);
        Emulator.Requests.All.Count(r => r.Path.Contains(created.Id, StringComparison.Ordinal)).Should().Be(before + 1, "SDK retries are off: the job grain backs off");
    }

    [Fact]
    public async Task A_rate_limit_is_transient_with_retry_after_from_the_header()
    {
        var created = await CreateAsync("job-" + Guid.NewGuid());
        Emulator.Faults.Add(new FaultRule(FaultKinds.RateLimit, Count: 1, Path: created.Id, RetryAfterSeconds: 7));

        var fault = await Provider.Invoking(p => p.GetJobAsync(Account, created.Id, default)).Should().ThrowAsync<ProviderException>();

        fault.Which.Kind.Should().Be(ProviderFaultKind.Transient);
        fault.Which.HttpStatus.Should().Be(429);
        fault.Which.RetryAfter.Should().Be(TimeSpan.FromSeconds(7));
    }

    [Fact]
    public async Task A_rate_limited_create_is_transient_and_sent_once()
    {
        var (write, sha) = ProviderTestHost.Jsonl(10, "rl-create");
        var file = await Provider.UploadFileAsync(Account, "train.jsonl", write, sha, default);
        var reference = "job-" + Guid.NewGuid();
        Emulator.Faults.Add(new FaultRule(FaultKinds.RateLimit, Count: 1, Path: "/fine_tuning/jobs", Method: "POST", RetryAfterSeconds: 2));

        var fault = await Provider.Invoking(p => p.CreateJobAsync(Account, new ProviderJobRequest(reference, "gpt-4o-mini-2024-07-18", file.Id, null, null, null,
            new Hyperparameters(null, null, null, null, null, null, null, null, null), 0, 0), default)).Should().ThrowAsync<ProviderException>();

        fault.Which.IsTransient.Should().BeTrue();
        fault.Which.RetryAfter.Should().Be(TimeSpan.FromSeconds(2));
        Emulator.Requests.All.Count(r => r.Method == "POST" && r.Body?.Contains(reference, StringComparison.Ordinal) == true).Should().Be(1);
        (await Provider.FindJobByReferenceAsync(Account, reference, null, default)).Should().BeNull();
    }

    [Fact]
    public async Task An_answer_slower_than_the_timeout_is_transient()
    {
        var created = await CreateAsync("job-" + Guid.NewGuid());
        Emulator.Faults.Add(new FaultRule(FaultKinds.Slow, Count: 1, Path: created.Id, DelayMilliseconds: (int)(ProviderTestHost.Timeout.TotalMilliseconds * 3)));

        var fault = await Provider.Invoking(p => p.GetJobAsync(Account, created.Id, default)).Should().ThrowAsync<ProviderException>();

        fault.Which.Kind.Should().Be(ProviderFaultKind.Transient);
        fault.Which.Message.Should().Contain("in time");
    }

    [Theory]
    [InlineData("GET", "")]
    [InlineData("GET", "/events")]
    [InlineData("GET", "/checkpoints")]
    [InlineData("POST", "/cancel")]
    public async Task A_malformed_answer_is_transient(string method, string path)
    {
        var created = await CreateAsync("job-" + Guid.NewGuid());
        Emulator.Faults.Add(new FaultRule(FaultKinds.Malformed, Count: 1, Path: created.Id, Method: method));

        Func<Task> call = path switch
        {
            "" => () => Provider.GetJobAsync(Account, created.Id, default),
            "/events" => () => Provider.ListEventsAsync(Account, created.Id, null, default),
            "/checkpoints" => () => Provider.ListCheckpointsAsync(Account, created.Id, default),
            _ => () => Provider.CancelJobAsync(Account, created.Id, default),
        };
        var fault = await call.Should().ThrowAsync<ProviderException>();

        fault.Which.Kind.Should().Be(ProviderFaultKind.Transient);
        fault.Which.Message.Should().Contain("malformed");
    }

    [Theory]
    [InlineData(FaultKinds.PermissionDenied)]
    [InlineData(FaultKinds.Unauthorized)]
    public async Task A_refused_account_is_permission_denied_naming_the_wind_down_and_the_alternatives(string kind)
    {
        var (write, sha) = ProviderTestHost.Jsonl(10, "pd-" + kind);
        var file = await Provider.UploadFileAsync(Account, "train.jsonl", write, sha, default);
        Emulator.Faults.Add(new FaultRule(kind, Count: 1, Path: "/fine_tuning/jobs", Method: "POST"));

        var fault = await Provider.Invoking(p => p.CreateJobAsync(Account, new ProviderJobRequest("job-" + Guid.NewGuid(), "gpt-4o-mini-2024-07-18", file.Id, null, null, null,
            new Hyperparameters(null, null, null, null, null, null, null, null, null), 0, 0), default)).Should().ThrowAsync<ProviderException>();

        fault.Which.Kind.Should().Be(ProviderFaultKind.PermissionDenied);
        fault.Which.Message.Should().Contain("2027-01-06").And.Contain("Together").And.Contain("sandbox");
        fault.Which.HttpStatus.Should().Be(kind == FaultKinds.Unauthorized ? 401 : 403);
    }

    [Fact]
    public async Task An_invalid_file_is_permanent_with_the_providers_message()
    {
        var fault = await Provider.Invoking(p => p.CreateJobAsync(Account, new ProviderJobRequest("job-" + Guid.NewGuid(), "gpt-4o-mini-2024-07-18", "file-doesnotexist", null, null, null,
            new Hyperparameters(null, null, null, null, null, null, null, null, null), 0, 0), default)).Should().ThrowAsync<ProviderException>();

        fault.Which.Kind.Should().Be(ProviderFaultKind.Permanent);
        fault.Which.HttpStatus.Should().Be(400);
        fault.Which.Message.Should().Be("invalid training_file: file-doesnotexist");
        fault.Which.Code.Should().Be("invalid_training_file");
    }

    [Fact]
    public async Task An_unknown_job_is_not_found()
    {
        var fault = await Provider.Invoking(p => p.GetJobAsync(Account, "ftjob-unknown", default)).Should().ThrowAsync<ProviderException>();

        fault.Which.Kind.Should().Be(ProviderFaultKind.NotFound);
    }

    [Fact]
    public async Task After_the_last_day_for_new_jobs_create_is_refused_without_calling_openai()
    {
        await using var late = host.Build(new FixedTime(new DateTimeOffset(2027, 1, 7, 0, 0, 1, TimeSpan.Zero)));
        await using var onTheDay = host.Build(new FixedTime(new DateTimeOffset(2027, 1, 6, 23, 59, 0, TimeSpan.Zero)));
        var reference = "job-" + Guid.NewGuid();
        var (write, sha) = ProviderTestHost.Jsonl(10, reference);
        var file = await Provider.UploadFileAsync(Account, "train.jsonl", write, sha, default);
        var request = new ProviderJobRequest(reference, "gpt-4o-mini-2024-07-18", file.Id, null, null, null, new Hyperparameters(null, null, null, null, null, null, null, null, null), 0, 0);

        var fault = await late.GetRequiredService<OpenAiProvider>().Invoking(p => p.CreateJobAsync(Account, request, default)).Should().ThrowAsync<ProviderException>();
        Emulator.Requests.All.Should().NotContain(r => r.Body != null && r.Body.Contains(reference, StringComparison.Ordinal));
        var accepted = await onTheDay.GetRequiredService<OpenAiProvider>().CreateJobAsync(Account, request, default);

        fault.Which.Kind.Should().Be(ProviderFaultKind.PermissionDenied);
        fault.Which.Message.Should().Contain("2027-01-06").And.Contain("Together").And.Contain("sandbox");
        accepted.Reference.Should().Be(reference);
    }

    [Fact]
    public async Task The_official_sdk_sends_the_platform_key_as_bearer()
    {
        await CreateAsync("job-" + Guid.NewGuid());

        Emulator.Requests.All.Where(r => r.Path.StartsWith("/v1/", StringComparison.Ordinal)).Should().OnlyContain(r => r.Authorization == "Bearer sk-test-platform" || r.Authorization == "Bearer sk-test");
    }
}
