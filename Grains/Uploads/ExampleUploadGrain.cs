using Microsoft.Extensions.Options;
using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Plans;
using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Tokens;

namespace ObjectaLabs.Orleans.Uploads;

/// <summary>
/// One upload (key: upload id, extension: organization id). It holds its <see cref="UploadSession"/>
/// (an open database transaction) in memory only, on purpose: if the activation goes away (idle for
/// <see cref="UploadSettings.IdleTimeout"/>, past its <see cref="UploadSettings.Deadline"/>, silo
/// crash), the transaction is rolled back and the upload is simply gone.
/// </summary>
[CollectionAgeLimit(Minutes = 10)]
public sealed class ExampleUploadGrain(
    UploadDataSource uploads,
    UploadFairness fairness,
    IOptions<UploadSettings> settings,
    BaseModelCatalog models,
    TokenizerCache tokenizers,
    TimeProvider clock,
    ILogger<ExampleUploadGrain> logger) : Grain, IExampleUploadGrain
{
    private static readonly TimeSpan WatchPeriod = TimeSpan.FromSeconds(15);

    // In-memory only (see the class summary): never persisted.
    private UploadSession? _session;
    private bool _started;
    private string? _endedBecause;
    private DateTimeOffset _lastActivity;
    private IGrainTimer? _watch;

    private Guid UploadId => this.GetPrimaryKey(out _);

    private Guid OrganizationId
    {
        get
        {
            this.GetPrimaryKey(out var extension);
            return Guid.TryParse(extension, out var id)
                ? id
                : throw ProblemException.Invalid("organizationId", "An upload is addressed by upload id and organization id.");
        }
    }

    public async Task StartAsync(UploadOptions options)
    {
        if (_started)
        {
            throw ProblemException.Conflict($"Upload {UploadId} was already started.");
        }
        var plan = await GrainFactory.GetGrain<IOrganizationGrain>(OrganizationId).GetPlanAsync(); // refuses unknown organizations
        // A dry run answers what the upload would, so it is refused for the same reasons, before the client streams a file.
        if (plan.MaxTrainingExamples == 0)
        {
            throw PlanLimits.NotIncluded(plan, "maxTrainingExamples", $"Plan '{plan.Name}' includes no training examples.");
        }
        var model = models.Get(options.BaseModel);
        if (!(model.FineTunable && plan.AllowsBaseModel(model.Id)))
        {
            var allowed = AllowedModels(plan);
            throw new ProblemException(ProblemKind.Validation, "Base model not in the plan",
                $"Plan '{plan.Name}' does not include fine-tuning '{model.Id}'. Allowed: {(allowed.Count == 0 ? "none" : string.Join(", ", allowed))}.",
                "baseModel",
                new Dictionary<string, string> { ["plan"] = plan.Name, ["allowedBaseModels"] = string.Join(",", allowed) });
        }
        var tags = ExampleProblems.Tags(options.Tags);
        _session = await UploadSession.StartAsync(uploads.DataSource, models, tokenizers, OrganizationId, UploadId,
            options with { Tags = tags, BaseModel = model.Id }, settings.Value, clock.GetUtcNow(), plan: plan);
        _started = true;
        _lastActivity = clock.GetUtcNow();
        _watch = this.RegisterGrainTimer(WatchAsync, new GrainTimerCreationOptions(WatchPeriod, WatchPeriod));
        logger.LogInformation("Upload {UploadId} started for organization {OrganizationId} in mode {Mode}, dry run {DryRun}",
            UploadId, OrganizationId, options.Mode, options.DryRun);
    }

    public async Task<UploadChunkResult> AppendAsync(UploadChunk chunk)
    {
        var session = await LiveSessionAsync();
        try
        {
            using var turn = await fairness.EnterAsync(OrganizationId);
            return await session.AppendAsync(chunk);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException)
        {
            // The upload's connection broke (the server ended an idle transaction, the database restarted):
            // everything staged is gone with it, so the upload is over.
            await EndAsync("its database connection was lost");
            throw Gone();
        }
    }

    public async Task<UploadReport> CompleteAsync()
    {
        var session = await LiveSessionAsync();
        var plan = await GrainFactory.GetGrain<IOrganizationGrain>(OrganizationId).GetPlanAsync();
        try
        {
            var report = await session.CompleteAsync(ExampleLimits.For(plan));
            logger.LogInformation("Upload {UploadId} finished: {Stored} stored of {Lines} lines, {Invalid} invalid, {Duplicates} duplicates",
                UploadId, report.StoredExamples, report.Lines, report.InvalidLines, report.DuplicateLines);
            return report;
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException)
        {
            _endedBecause = "its database connection was lost";
            throw Gone();
        }
        finally
        {
            await EndAsync(_endedBecause ?? "it finished");
        }
    }

    public Task AbortAsync() => EndAsync("it was aborted");

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_session is not null)
        {
            logger.LogWarning("Upload {UploadId} dropped unfinished ({Reason}); nothing was stored", UploadId, reason.Description);
            await _session.DisposeAsync();
            _session = null;
        }
    }

    /// <summary>Ends an upload that went quiet for the idle timeout or ran past its deadline, even if no call comes.</summary>
    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        if (_session is null)
        {
            return;
        }
        var now = clock.GetUtcNow();
        if (_session.IsPastDeadline(now))
        {
            logger.LogWarning("Upload {UploadId} passed its deadline of {Deadline}; rolled back", UploadId, settings.Value.Deadline);
            await EndAsync($"it ran past its deadline of {settings.Value.Deadline.TotalMinutes:0.#} minutes");
        }
        else if (now - _lastActivity > settings.Value.IdleTimeout)
        {
            logger.LogWarning("Upload {UploadId} idle for over {Idle}; rolled back", UploadId, settings.Value.IdleTimeout);
            await EndAsync($"it was idle for over {settings.Value.IdleTimeout.TotalMinutes:0.#} minutes");
        }
    }

    private async Task<UploadSession> LiveSessionAsync()
    {
        if (_session is { } session && session.IsPastDeadline(clock.GetUtcNow()))
        {
            await EndAsync($"it ran past its deadline of {settings.Value.Deadline.TotalMinutes:0.#} minutes");
        }
        _lastActivity = clock.GetUtcNow();
        return _session ?? throw Gone();
    }

    private async Task EndAsync(string because)
    {
        _endedBecause ??= because;
        _watch?.Dispose();
        _watch = null;
        if (_session is not null)
        {
            await _session.DisposeAsync();
            _session = null;
        }
        DeactivateOnIdle();
    }

    private ProblemException Gone() => ProblemException.Conflict(_endedBecause is { } why
        ? $"Upload {UploadId} is over because {why}; nothing was stored by it unless it finished. Start a new upload."
        : $"Upload {UploadId} is not in progress (never started here, or the silo that held it went away); nothing was stored. Start a new upload.");

    /// <summary>The plan's models that can be fine-tuned ('*' meaning every fine-tunable catalog model).</summary>
    private List<string> AllowedModels(PlanDefinition plan) =>
        models.All.Where(m => m.FineTunable && plan.AllowsBaseModel(m.Id)).Select(m => m.Id).ToList();
}
