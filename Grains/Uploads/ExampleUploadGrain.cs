using Npgsql;
using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Plans;
using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Tokens;

namespace ObjectaLabs.Orleans.Uploads;

/// <summary>
/// One upload (key: upload id, extension: organization id). It holds its <see cref="UploadSession"/>
/// (an open database transaction) in memory only, on purpose: if the activation goes away (idle for
/// <see cref="IdleTimeout"/>, silo crash), the transaction is rolled back and the upload is simply gone.
/// </summary>
[CollectionAgeLimit(Minutes = 10)]
public sealed class ExampleUploadGrain(
    NpgsqlDataSource db,
    BaseModelCatalog models,
    TokenizerCache tokenizers,
    TimeProvider clock,
    ILogger<ExampleUploadGrain> logger) : Grain, IExampleUploadGrain
{
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(10);

    // In-memory only (see the class summary): never persisted.
    private UploadSession? _session;
    private bool _started;

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
        if (plan.MaxTrainingExamples == 0 && !options.DryRun)
        {
            // Refuse before the client streams a whole file that could never be stored.
            throw PlanLimits.NotIncluded(plan, "maxTrainingExamples", $"Plan '{plan.Name}' includes no training examples.");
        }
        _started = true;
        _session = await UploadSession.StartAsync(db, models, tokenizers, OrganizationId, UploadId, options with { Tags = ExampleProblems.Tags(options.Tags) }, clock.GetUtcNow());
        logger.LogInformation("Upload {UploadId} started for organization {OrganizationId} in mode {Mode}", UploadId, OrganizationId, options.Mode);
    }

    public Task<UploadChunkResult> AppendAsync(UploadChunk chunk) => Session().AppendAsync(chunk);

    public async Task<UploadReport> CompleteAsync()
    {
        var session = Session();
        var plan = await GrainFactory.GetGrain<IOrganizationGrain>(OrganizationId).GetPlanAsync();
        try
        {
            var report = await session.CompleteAsync(ExampleLimits.For(plan));
            logger.LogInformation("Upload {UploadId} finished: {Stored} stored of {Lines} lines, {Invalid} invalid, {Duplicates} duplicates",
                UploadId, report.StoredExamples, report.Lines, report.InvalidLines, report.DuplicateLines);
            return report;
        }
        finally
        {
            _session = null;
            DeactivateOnIdle();
        }
    }

    public async Task AbortAsync()
    {
        if (_session is not null)
        {
            await _session.DisposeAsync();
            _session = null;
        }
        DeactivateOnIdle();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_session is not null)
        {
            logger.LogWarning("Upload {UploadId} dropped unfinished ({Reason}); nothing was stored", UploadId, reason.Description);
            await _session.DisposeAsync();
        }
    }

    private UploadSession Session() =>
        _session ?? throw ProblemException.Conflict($"Upload {UploadId} is not in progress (never started, finished, aborted or idle for over {IdleTimeout.TotalMinutes} minutes).");
}
