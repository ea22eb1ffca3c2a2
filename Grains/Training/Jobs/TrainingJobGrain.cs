using Microsoft.Extensions.Options;
using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Hosting;
using ObjectaLabs.Orleans.Models;
using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Providers;
using ObjectaLabs.Orleans.Providers.Accounts;
using ObjectaLabs.Orleans.Tokens;
using ObjectaLabs.Orleans.Training.Cost;

namespace ObjectaLabs.Orleans.Training.Jobs;

/// <summary>
/// One training job (see <see cref="ITrainingJobGrain"/>). Each reminder tick does the next step and writes it down
/// before the one after: upload the training file (or reuse the provider's copy of the same bytes), upload the
/// validation file, write the intent to submit, submit (after a crash: look the job up by our id first), poll,
/// and once the provider's word is final register the model and remove the reminder.
/// </summary>
public sealed class TrainingJobGrain(
    [PersistentState("training-job", StorageNames.Postgres)] IPersistentState<TrainingJobState> state,
    TrainingJobRows rows,
    BaseModelCatalog catalog,
    TokenizerCache tokenizers,
    ProviderAccounts accounts,
    IEnumerable<IFineTuningProvider> providers,
    IOptions<TrainingJobOptions> options,
    TimeProvider clock,
    ILogger<TrainingJobGrain> logger) : Grain, ITrainingJobGrain, IRemindable
{
    public const string ReminderName = "follow-provider";
    private static readonly TimeSpan EarlyTickTolerance = TimeSpan.FromMilliseconds(20);
    public const string TrainingFileName = "train.jsonl";
    private const string ValidationFileName = "validation.jsonl";

    // In memory only: the faster poll of an active job (see TrainingJobOptions.SandboxPollInterval); never persisted.
    private IGrainTimer? _fastPoll;

    private Guid Id => this.GetPrimaryKey();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        StartFastPoll();
        return base.OnActivateAsync(cancellationToken);
    }

    /// <summary>Polls on a grain timer too, when this job's provider is followed faster than the reminder's period.</summary>
    private void StartFastPoll()
    {
        if (_fastPoll is null && state.State.Job is { } job && !job.Status.IsFinal() && Options.IntervalFor(job.Provider) is var every && every < Options.PollInterval)
        {
            _fastPoll = this.RegisterGrainTimer(_ => StepAsync(), new GrainTimerCreationOptions(every, every) { KeepAlive = true });
        }
    }

    private TrainingJobOptions Options => options.Value;

    public async Task<TrainingJobInfo> StartAsync(Guid organizationId, NewTrainingJob request)
    {
        if (state.State.Job is { } existing)
        {
            if (existing.OrganizationId == organizationId && state.State.Request == request)
            {
                return existing;
            }
            throw ProblemException.Conflict($"Training job {Id} already exists with other settings.", "id");
        }
        var model = catalog.Get(request.BaseModel);
        var provider = Provider(model.Provider);

        var examples = await rows.ReadValidatedAsync(organizationId, request.AgentId);
        if (examples.Count < Export.TrainValidationSplit.MinTrainingExamples)
        {
            throw new ProblemException(ProblemKind.Validation, "Not enough validated examples",
                $"A training job needs at least {Export.TrainValidationSplit.MinTrainingExamples} validated examples" +
                $"{(request.AgentId is null ? "" : " of this agent")}; there are {examples.Count}. Validate more examples first.",
                "examples", new Dictionary<string, string>
                {
                    ["required"] = Export.TrainValidationSplit.MinTrainingExamples.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["current"] = examples.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                });
        }
        var dataset = TrainingJobRows.Freeze(examples, request.ValidationRatio, request.Seed);
        var counts = DatasetTokenCounts.Count(model, tokenizers, dataset.Training.Select(e => e.Example), dataset.Validation.Select(e => e.Example));
        var estimate = TrainingCostEstimator.Estimate(model, counts, request.Hyperparameters.Epochs, request.Hyperparameters.Evaluations);

        var now = Truncate(clock.GetUtcNow());
        var job = new TrainingJobInfo(
            Id, organizationId, request.AgentId, request.Name, model.Id, model.Provider, model.ProviderModel, TrainingJobStatus.Preparing,
            ProviderStatus: null, ProviderJobId: null, TrainingFileId: null, ValidationFileId: null, dataset.Summary, request.Hyperparameters,
            request.Suffix, estimate.Epochs, estimate.BillableTrainingTokens, estimate.TotalCost, TrainedTokens: null, ActualCost: null,
            TrainingLoss: null, ValidationLoss: null, Step: null, TotalSteps: null, Progress: null, EstimatedFinishAt: null, Error: null,
            CancelRequested: false, ModelId: null, ModelVersion: null, FineTunedModel: null, Simulated: provider.Name == ProviderNames.Sandbox,
            request.CreatedBy, now, StartedAt: null, FinishedAt: null, now, LastPolledAt: null, NextPollAt: now, ConsecutivePollFailures: 0,
            LastPollFailure: null);

        // Rows first (mirror + frozen examples, one transaction), then the reminder, then the state: a crash or a failed
        // write in between leaves rows a retried start replaces, or a reminder that finds no job and removes itself.
        await rows.InsertJobAsync(job, dataset);
        try
        {
            await this.RegisterOrUpdateReminder(ReminderName, TimeSpan.FromSeconds(1), Options.PollInterval);
            await CommitAsync(new TrainingJobState { Job = job, Request = request });
            StartFastPoll();
        }
        catch
        {
            await rows.DeleteJobAsync(organizationId, Id);
            throw;
        }
        logger.LogInformation("Training job {JobId} started on {BaseModel} ({Provider}) with {Training} training and {Validation} validation examples",
            Id, model.Id, provider.Name, dataset.Summary.TrainingExamples, dataset.Summary.ValidationExamples);
        return job;
    }

    public Task<TrainingJobInfo> GetAsync(Guid organizationId) => Task.FromResult(Owned(organizationId));

    public Task<TrainingJobEventPage> ListEventsAsync(Guid organizationId, long? after, int limit)
    {
        Owned(organizationId);
        if (limit is < 1 or > TrainingJobRows.MaxEventLimit)
        {
            throw ProblemException.Invalid("limit", $"'limit' must be between 1 and {TrainingJobRows.MaxEventLimit}.");
        }
        if (after is < 0)
        {
            throw ProblemException.Invalid("after", "'after' must be a sequence number this list returned (0 or more).");
        }
        return rows.ListEventsAsync(Id, after, limit);
    }

    public Task<IReadOnlyList<TrainingCheckpoint>> ListCheckpointsAsync(Guid organizationId)
    {
        Owned(organizationId);
        return Task.FromResult(state.State.Checkpoints);
    }

    public async Task<TrainingJobInfo> CancelAsync(Guid organizationId)
    {
        var job = Owned(organizationId);
        if (job.Status.IsFinal())
        {
            throw ProblemException.Conflict($"Training job {Id} has already {job.Status.Name()}; only a job in flight can be cancelled.", "status");
        }
        if (!job.CancelRequested)
        {
            await CommitAsync(state.State with { Job = job with { CancelRequested = true, Status = TrainingJobStatus.Cancelling, NextPollAt = clock.GetUtcNow(), UpdatedAt = clock.GetUtcNow() } });
            logger.LogInformation("Training job {JobId}: cancel requested", Id);
        }
        await StepAsync();
        return state.State.Job!;
    }

    public async Task<TrainingJobInfo> AdvanceAsync(Guid organizationId)
    {
        Owned(organizationId);
        await StepAsync(force: true);
        return state.State.Job!;
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ReminderName)
        {
            return;
        }
        await StepAsync();
    }

    /// <summary>Does the job's next step; a transient fault is recorded and retried later, a permanent one fails the job.</summary>
    private async Task StepAsync(bool force = false)
    {
        var current = state.State;
        if (current.Job is not { } job)
        {
            await StopFollowingAsync();
            return;
        }
        if (job.Status.IsFinal())
        {
            await FinishAsync();
            return;
        }
        var now = clock.GetUtcNow();
        // A tick a hair early (timers count monotonic milliseconds, the wall clock drifts against them) is on time.
        if (!force && job.NextPollAt is { } next && now < next - EarlyTickTolerance)
        {
            AlignFastPoll();
            return;
        }
        try
        {
            if (current.MirrorStale)
            {
                await rows.UpsertMirrorAsync(job);
                current = current with { MirrorStale = false };
                await CommitAsync(current, mirror: false);
            }
            var provider = Provider(job.Provider);
            var account = await accounts.ResolveAsync(job.OrganizationId, job.Provider);
            if (job.ProviderJobId is null)
            {
                await SubmitAsync(provider, account);
            }
            if (state.State.Job!.ProviderJobId is not null)
            {
                await PollAsync(provider, account);
            }
        }
        catch (ProviderException e) when (e.IsTransient)
        {
            await FaultAsync(e.Message, e.RetryAfter);
        }
        catch (ProviderException e)
        {
            await FailAsync(new JobError(e.Code ?? e.Kind.ToString(), Clean(e.Message), Permanent: true));
        }
        catch (ProblemException e)
        {
            // The provider is no longer configured for the organization (a removed key), or our catalog refuses: nothing a retry fixes.
            await FailAsync(new JobError("not_configured", Clean(e.Message), Permanent: true));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogWarning(e, "Training job {JobId}: step failed; retrying later", Id);
            await FaultAsync($"{e.GetType().Name}: {e.Message}", null);
        }
        AlignFastPoll();
        if (state.State.Job!.Status.IsFinal())
        {
            try
            {
                await FinishAsync();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The reminder stays, so the next tick finishes the job (registration is idempotent per job).
                logger.LogWarning(e, "Training job {JobId}: finishing failed; retried at the next tick", Id);
            }
        }
    }

    private async Task SubmitAsync(IFineTuningProvider provider, ProviderAccount account)
    {
        var job = state.State.Job!;
        if (job.CancelRequested && !state.State.SubmitIntent)
        {
            await CommitAsync(state.State with { Job = Final(job, TrainingJobStatus.Cancelled, null) });
            return;
        }
        if (job.TrainingFileId is null)
        {
            var file = await UploadAsync(provider, account, TrainingFileName, 0, job.Dataset.TrainingSha256);
            job = job with { TrainingFileId = file.Id, UpdatedAt = clock.GetUtcNow() };
            await CommitAsync(state.State with { Job = job });
        }
        if (job.Dataset.ValidationSha256 is { } validationHash && job.ValidationFileId is null)
        {
            var file = await UploadAsync(provider, account, ValidationFileName, 1, validationHash);
            job = job with { ValidationFileId = file.Id, UpdatedAt = clock.GetUtcNow() };
            await CommitAsync(state.State with { Job = job });
        }
        ProviderJob? created = null;
        if (state.State.SubmitIntent)
        {
            // A submission may have reached the provider before a crash or a lost answer: never submit twice.
            created = await provider.FindJobByReferenceAsync(account, Reference, job.Suffix, CancellationToken.None);
            if (created is null && job.CancelRequested)
            {
                await CommitAsync(state.State with { Job = Final(job, TrainingJobStatus.Cancelled, null) });
                return;
            }
        }
        else
        {
            await CommitAsync(state.State with { SubmitIntent = true });
        }
        created ??= await provider.CreateJobAsync(account, Request(job, provider), CancellationToken.None);
        logger.LogInformation("Training job {JobId} submitted to {Provider} as {ProviderJobId}", Id, provider.Name, created.Id);
        await CommitAsync(state.State with { Job = Apply(job with { ProviderJobId = created.Id }, created), FaultingSince = null });
    }

    private async Task<ProviderFile> UploadAsync(IFineTuningProvider provider, ProviderAccount account, string fileName, int part, string sha256)
    {
        if (await provider.FindFileAsync(account, fileName, sha256, CancellationToken.None) is { } earlier)
        {
            logger.LogInformation("Training job {JobId}: {File} reuses provider file {FileId} (same SHA-256)", Id, fileName, earlier.Id);
            return earlier;
        }
        return await provider.UploadFileAsync(account, fileName, (stream, ct) => rows.WriteFileAsync(Id, part, stream, ct), sha256, CancellationToken.None);
    }

    private ProviderJobRequest Request(TrainingJobInfo job, IFineTuningProvider provider)
    {
        var h = job.Hyperparameters;
        // OpenAI chooses epochs itself for "auto"; the others run what was estimated, so the bill matches the estimate.
        var epochs = provider.Name == ProviderNames.OpenAi ? h.Epochs : h.Epochs ?? job.EstimatedEpochs;
        return new ProviderJobRequest(Reference, job.ProviderModel, job.TrainingFileId!, job.ValidationFileId, job.Suffix, state.State.Request?.Seed,
            new Hyperparameters(epochs, h.BatchSize, h.LearningRateMultiplier, null, null, null, null, null, h.Evaluations),
            job.EstimatedTrainingTokens, 0);
    }

    private async Task PollAsync(IFineTuningProvider provider, ProviderAccount account)
    {
        var job = state.State.Job!;
        var providerJobId = job.ProviderJobId!;
        var remote = await provider.GetJobAsync(account, providerJobId, CancellationToken.None);
        if (job.CancelRequested && !state.State.CancelSent && !IsFinal(remote.Status))
        {
            remote = await provider.CancelJobAsync(account, providerJobId, CancellationToken.None);
            await CommitAsync(state.State with { CancelSent = true });
            logger.LogInformation("Training job {JobId}: cancel sent to {Provider}", Id, provider.Name);
        }

        var cursor = state.State.EventCursor;
        double? trainLoss = job.TrainingLoss, validationLoss = job.ValidationLoss;
        for (var page = 0; page < Options.EventPagesPerPoll; page++)
        {
            var events = await provider.ListEventsAsync(account, providerJobId, cursor, CancellationToken.None);
            if (events.Events.Count == 0)
            {
                break;
            }
            var mapped = events.Events.Select(e => new TrainingJobEvent(0, Clean(e.Id), e.CreatedAt, Clean(e.Level), Clean(e.Type), Clean(e.Message),
                e.Step, e.TotalSteps, Finite(e.TrainLoss), Finite(e.ValidationLoss))).ToList();
            await rows.InsertEventsAsync(Id, mapped);
            foreach (var e in mapped)
            {
                trainLoss = e.TrainLoss ?? trainLoss;
                validationLoss = e.ValidationLoss ?? validationLoss;
            }
            if (events.NextCursor is null || events.NextCursor == cursor)
            {
                break;
            }
            cursor = events.NextCursor;
        }

        var checkpoints = state.State.Checkpoints;
        if (remote.Status is ProviderJobStatus.Running or ProviderJobStatus.Succeeded)
        {
            try
            {
                checkpoints = (await provider.ListCheckpointsAsync(account, providerJobId, CancellationToken.None))
                    .Select(c => new TrainingCheckpoint(Clean(c.Id), c.CreatedAt, c.Step, c.Model is null ? null : Clean(c.Model), Finite(c.TrainLoss), Finite(c.ValidationLoss)))
                    .ToList();
            }
            catch (ProviderException e) when (e.IsTransient)
            {
                logger.LogInformation("Training job {JobId}: checkpoints not read this time ({Reason})", Id, e.Message);
            }
        }

        var next = Apply(job with { TrainingLoss = trainLoss, ValidationLoss = validationLoss }, remote);
        if (next.Status == TrainingJobStatus.Succeeded && next.ModelId is null)
        {
            // Registered before the success is kept, so the job is never seen succeeded without its model (reads interleave).
            next = await WithModelAsync(next);
        }
        await CommitAsync(state.State with { Job = next, EventCursor = cursor, Checkpoints = checkpoints, FaultingSince = null });
        TrainingJobMetrics.Polls.Add(1);
    }

    /// <summary>The job after the provider's answer: status, progress, tokens, cost, and the final word when there is one.</summary>
    private TrainingJobInfo Apply(TrainingJobInfo job, ProviderJob remote)
    {
        var now = clock.GetUtcNow();
        var status = remote.Status switch
        {
            ProviderJobStatus.Validating => TrainingJobStatus.Validating,
            ProviderJobStatus.Queued => TrainingJobStatus.Queued,
            ProviderJobStatus.Running => TrainingJobStatus.Running,
            ProviderJobStatus.Succeeded => TrainingJobStatus.Succeeded,
            ProviderJobStatus.Failed => TrainingJobStatus.Failed,
            ProviderJobStatus.Cancelled => TrainingJobStatus.Cancelled,
            // A status we do not know: keep ours, show theirs, keep following.
            _ => job.Status,
        };
        if (job.CancelRequested && !status.IsFinal())
        {
            status = TrainingJobStatus.Cancelling;
        }
        var progress = remote.Step is { } step && remote.TotalSteps is { } total && total > 0 ? Math.Clamp((double)step / total, 0, 1) : job.Progress;
        if (status == TrainingJobStatus.Succeeded)
        {
            progress = 1;
        }
        var startedAt = remote.StartedAt ?? job.StartedAt ?? (status == TrainingJobStatus.Running ? now : null);
        var eta = remote.EstimatedFinish;
        if (eta is null && status == TrainingJobStatus.Running && startedAt is { } s && progress is > 0.02 and < 1)
        {
            eta = s + (now - s) / progress.Value;
        }
        var trained = remote.TrainedTokens ?? job.TrainedTokens;
        CostFigure? actual = job.ActualCost;
        if (remote.ProviderCostUsd is { } billed)
        {
            actual = CostFigure.Known(billed);
        }
        else if (trained is { } tokens && catalog.Find(job.BaseModel) is { } model)
        {
            actual = TrainingCostEstimator.ActualCost(model, tokens);
        }
        var next = job with
        {
            Status = status,
            ProviderStatus = Clean(remote.RawStatus),
            FineTunedModel = remote.FineTunedModel is null ? job.FineTunedModel : Clean(remote.FineTunedModel),
            TrainedTokens = trained,
            ActualCost = actual,
            Step = remote.Step ?? job.Step,
            TotalSteps = remote.TotalSteps ?? job.TotalSteps,
            Progress = progress,
            StartedAt = startedAt,
            // When the job ended is the provider's word when it gives one, not when we happened to poll.
            FinishedAt = status.IsFinal() ? remote.FinishedAt ?? job.FinishedAt : job.FinishedAt,
            EstimatedFinishAt = status.IsFinal() ? null : eta,
            UpdatedAt = now,
            LastPolledAt = now,
            NextPollAt = NextDue(job.NextPollAt, now, Options.IntervalFor(job.Provider)),
            ConsecutivePollFailures = 0,
            LastPollFailure = null,
        };
        if (status == TrainingJobStatus.Succeeded && next.FineTunedModel is null)
        {
            return Final(next, TrainingJobStatus.Failed, new JobError("no_model", $"{job.Provider} reported the job succeeded but named no fine-tuned model.", Permanent: true));
        }
        if (status == TrainingJobStatus.Failed)
        {
            return Final(next, status, new JobError(remote.ErrorCode is null ? null : Clean(remote.ErrorCode),
                Clean(remote.ErrorMessage ?? $"{job.Provider} reported the job failed without a reason."), Permanent: true));
        }
        return status.IsFinal() ? Final(next, status, null) : next;
    }

    /// <summary>
    /// When the poll after one due at <paramref name="due"/> and made at <paramref name="now"/> is due: on a fixed rate
    /// (due + interval) when the poll was on time, so the time a poll takes never stretches the period; a full interval
    /// from now when it was late by half an interval or more (after a fault, a pause, or the first tick).
    /// </summary>
    internal static DateTimeOffset NextDue(DateTimeOffset? due, DateTimeOffset now, TimeSpan interval) =>
        due is { } d && now >= d && now - d < interval / 2 ? d + interval : now + interval;

    /// <summary>Points the fast poll at the job's next due time, so it fires then and not a period after the last tick ended.</summary>
    private void AlignFastPoll()
    {
        if (_fastPoll is null || state.State.Job is not { } job)
        {
            return;
        }
        if (job.Status.IsFinal() || job.NextPollAt is not { } next)
        {
            return;
        }
        var interval = Options.IntervalFor(job.Provider);
        var wait = next - clock.GetUtcNow();
        // Timers count whole milliseconds: round up, so the tick never lands just before the due time and is skipped.
        var due = wait <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds));
        _fastPoll.Change(due, interval);
    }

    private TrainingJobInfo Final(TrainingJobInfo job, TrainingJobStatus status, JobError? error)
    {
        var now = clock.GetUtcNow();
        return job with { Status = status, Error = error, FinishedAt = job.FinishedAt ?? now, UpdatedAt = now, NextPollAt = null, EstimatedFinishAt = null };
    }

    private async Task FaultAsync(string reason, TimeSpan? retryAfter)
    {
        var current = state.State;
        var job = current.Job!;
        var now = clock.GetUtcNow();
        var since = current.FaultingSince ?? now;
        var failures = job.ConsecutivePollFailures + 1;
        if (now - since >= Options.GiveUpAfter)
        {
            await FailAsync(new JobError("provider_unreachable",
                $"Gave up after {failures} failed attempts since {since:u}: {Clean(reason)}", Permanent: false));
            return;
        }
        var backoff = TimeSpan.FromTicks(Math.Min(Options.MaxBackoff.Ticks, Options.IntervalFor(job.Provider).Ticks * (1L << Math.Min(failures, 20))));
        if (retryAfter is { } asked && asked > backoff)
        {
            backoff = asked < Options.MaxBackoff * 4 ? asked : Options.MaxBackoff * 4;
        }
        var next = job with { ConsecutivePollFailures = failures, LastPollFailure = Clean(reason), NextPollAt = now + backoff, UpdatedAt = now };
        logger.LogInformation("Training job {JobId}: transient fault #{Failures} ({Reason}); next attempt in {Backoff}", Id, failures, reason, backoff);
        try
        {
            await CommitAsync(current with { Job = next, FaultingSince = since });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The database itself is down: the reminder keeps ticking and the next tick tries again.
            logger.LogWarning(e, "Training job {JobId}: could not record the fault", Id);
        }
    }

    private async Task FailAsync(JobError error)
    {
        logger.LogWarning("Training job {JobId} failed: {Code} {Message}", Id, error.Code, error.Message);
        await CommitAsync(state.State with { Job = Final(state.State.Job!, TrainingJobStatus.Failed, error) });
    }

    /// <summary>The succeeded job with its model registered (once: the registry is idempotent per job, so a retry after a failed write answers the same model).</summary>
    private async Task<TrainingJobInfo> WithModelAsync(TrainingJobInfo job)
    {
        var model = await GrainFactory.GetGrain<IModelRegistryGrain>(job.OrganizationId).RegisterAsync(new ModelRegistration(
            job.OrganizationId, Id, job.AgentId, job.Name, 0, job.Provider, job.FineTunedModel!, job.BaseModel, job.Dataset.DatasetHash,
            job.Dataset.TrainingExamples, job.Dataset.ValidationExamples, job.Simulated, job.FinishedAt ?? clock.GetUtcNow()));
        logger.LogInformation("Training job {JobId} succeeded: model {ModelId} v{Version} ({ProviderModel})", Id, model.Id, model.Version, job.FineTunedModel);
        return job with { ModelId = model.Id, ModelVersion = model.Version, UpdatedAt = clock.GetUtcNow() };
    }

    /// <summary>Registers the model of a succeeded job if that is still to do, then stops the reminder.</summary>
    private async Task FinishAsync()
    {
        var job = state.State.Job!;
        if (job.Status == TrainingJobStatus.Succeeded && job.ModelId is null)
        {
            // A success kept before its registration (a job from before registration moved into the poll, or a
            // registration that failed): registered now.
            await CommitAsync(state.State with { Job = await WithModelAsync(job) });
        }
        if (state.State.MirrorStale)
        {
            await rows.UpsertMirrorAsync(state.State.Job!);
            await CommitAsync(state.State with { MirrorStale = false }, mirror: false);
        }
        await StopFollowingAsync();
    }

    private async Task StopFollowingAsync()
    {
        _fastPoll?.Dispose();
        _fastPoll = null;
        if (await this.GetReminder(ReminderName) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    /// <summary>Keeps <paramref name="next"/> only once it is written, then brings the mirror row up to date (a failed mirror write is retried at the next tick).</summary>
    private async Task CommitAsync(TrainingJobState next, bool mirror = true)
    {
        await state.CommitAsync(next);
        if (mirror && next.Job is { } job)
        {
            try
            {
                await rows.UpsertMirrorAsync(job);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                logger.LogWarning(e, "Training job {JobId}: mirror row not written; retried at the next tick", Id);
                state.State = next with { MirrorStale = true };
            }
        }
    }

    private TrainingJobInfo Owned(Guid organizationId) =>
        state.State.Job is { } job && job.OrganizationId == organizationId ? job : throw ProblemException.NotFound("Training job", Id);

    private IFineTuningProvider Provider(string name) =>
        providers.FirstOrDefault(p => p.Name == name)
        ?? throw ProblemException.Invalid("baseModel", $"The provider '{name}' of this base model is not available in this deployment.");

    private string Reference => Id.ToString("N");

    private static bool IsFinal(ProviderJobStatus status) =>
        status is ProviderJobStatus.Succeeded or ProviderJobStatus.Failed or ProviderJobStatus.Cancelled;

    private static DateTimeOffset Truncate(DateTimeOffset at) => new(at.UtcTicks - at.UtcTicks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);

    private static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;

    /// <summary>Provider text as PostgreSQL can store it: NUL and unpaired surrogates become U+FFFD, and it is capped at 4,000 characters.</summary>
    internal static string Clean(string text)
    {
        var span = text.AsSpan(0, Math.Min(text.Length, 4000));
        var builder = new System.Text.StringBuilder(span.Length);
        for (var i = 0; i < span.Length; i++)
        {
            var c = span[i];
            if (c == '\0')
            {
                builder.Append('\uFFFD');
            }
            else if (char.IsHighSurrogate(c) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1]))
            {
                builder.Append(c).Append(span[++i]);
            }
            else if (char.IsSurrogate(c))
            {
                builder.Append('\uFFFD');
            }
            else
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    }
}
