using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Export;
using ObjectaLabs.Orleans.FewShot;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Quality;
using Orleans.Concurrency;

namespace ObjectaLabs.Orleans.Examples;

/// <summary>
/// An organization's training examples (key: organization id). Stateless: the table is the state, and
/// every statement is scoped by the key, so any silo can serve any call and one organization never
/// sees another's rows. Writes check the organization's plan.
/// </summary>
[StatelessWorker]
public sealed class TrainingExamplesGrain(
    ExampleRows rows,
    BaseModelCatalog models,
    QualityAnalyzer analyzer,
    ExampleExporter exporter,
    TimeProvider clock,
    ILogger<TrainingExamplesGrain> logger) : Grain, ITrainingExamplesGrain
{
    private Guid OrganizationId => this.GetPrimaryKey();

    public async Task<TrainingExample> CreateAsync(NewExample example)
    {
        var plan = await Organization.GetPlanAsync();
        var content = ExampleProblems.Require(example.Example);
        var now = clock.GetUtcNow();
        var row = new NewExampleRow(Guid.CreateVersion7(now), example.AgentId, content, ExampleSource.Manual, ExampleProblems.Tags(example.Tags), now, Notes: example.Notes);
        try
        {
            return await rows.InsertAsync(OrganizationId, row, ExampleLimits.For(plan));
        }
        catch (Npgsql.PostgresException e) when (e.SqlState == Npgsql.PostgresErrorCodes.ForeignKeyViolation)
        {
            throw ProblemException.Invalid("agentId", $"Agent '{example.AgentId}' does not belong to this organization.");
        }
    }

    public async Task<TrainingExample> GetAsync(Guid exampleId) =>
        await rows.GetAsync(OrganizationId, exampleId) ?? throw ProblemException.NotFound("Training example", exampleId);

    public async Task<TrainingExample> UpdateAsync(Guid exampleId, ExampleEdit edit)
    {
        var content = edit.Example is null ? null : ExampleProblems.Require(edit.Example);
        var tags = edit.Tags is null ? null : ExampleProblems.Tags(edit.Tags);
        var updated = await rows.UpdateAsync(OrganizationId, exampleId, content, tags, edit.Notes, clock.GetUtcNow())
            ?? throw ProblemException.NotFound("Training example", exampleId);
        await ChangedAsync([exampleId]);
        return updated;
    }

    public async Task DeleteAsync(Guid exampleId)
    {
        if (!await rows.DeleteAsync(OrganizationId, exampleId))
        {
            throw ProblemException.NotFound("Training example", exampleId);
        }
        await ChangedAsync([exampleId]);
    }

    public async Task<TrainingExample> ValidateAsync(Guid exampleId, string validatedBy, decimal qualityScore)
    {
        if ((await BulkValidateAsync([exampleId], validatedBy, qualityScore)).Validated == 0)
        {
            throw ProblemException.NotFound("Training example", exampleId);
        }
        return await GetAsync(exampleId);
    }

    public async Task<BulkValidation> BulkValidateAsync(IReadOnlyList<Guid> exampleIds, string validatedBy, decimal qualityScore)
    {
        if (string.IsNullOrWhiteSpace(validatedBy))
        {
            throw ProblemException.Invalid("validatedBy", "'validatedBy' names who validated the examples.");
        }
        if (qualityScore is < 0 or > 1 || decimal.Round(qualityScore, 2) != qualityScore)
        {
            throw ProblemException.Invalid("qualityScore", "'qualityScore' must be between 0 and 1 with at most two decimals.");
        }
        if (exampleIds.Count is 0 or > 10_000)
        {
            throw ProblemException.Invalid("ids", "Give between 1 and 10,000 example ids.");
        }
        var validated = await rows.ValidateAsync(OrganizationId, exampleIds, validatedBy.Trim(), qualityScore, clock.GetUtcNow());
        await ChangedAsync(validated);
        logger.LogInformation("Organization {OrganizationId}: {Count} examples validated by {ValidatedBy}", OrganizationId, validated.Count, validatedBy);
        var found = validated.ToHashSet();
        return new BulkValidation(validated.Count, exampleIds.Distinct().Where(id => !found.Contains(id)).ToList());
    }

    public Task<ExamplePage> ListAsync(ExampleListRequest request) => rows.ListAsync(OrganizationId, request);

    public Task<QualityReport> GetQualityReportAsync(QualityRequest request) =>
        analyzer.AnalyzeAsync(models.Get(request.BaseModel), rows.StreamAsync(OrganizationId, request.AgentId, request.ValidatedOnly),
            DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime));

    public async Task<RedactionResult> RedactPersonalDataAsync(QualityRequest request)
    {
        int changed = 0, replacements = 0, skipped = 0;
        var now = clock.GetUtcNow();
        var edits = new List<(Guid Id, string Json, int N)>();
        await foreach (var example in rows.StreamAsync(OrganizationId, request.AgentId, request.ValidatedOnly))
        {
            if (PersonalDataRedactor.Redact(example.Example) is ({ } json, var n))
            {
                edits.Add((example.Id, json, n));
            }
        }
        var edited = new List<Guid>();
        foreach (var (id, json, n) in edits)
        {
            try
            {
                await rows.UpdateAsync(OrganizationId, id, ExampleProblems.Require(json), null, null, now);
                edited.Add(id);
                changed++;
                replacements += n;
            }
            catch (ProblemException e) when (e.Kind == ProblemKind.Conflict)
            {
                skipped++;
            }
        }
        await ChangedAsync(edited);
        logger.LogInformation("Organization {OrganizationId}: redacted {Replacements} items in {Changed} examples", OrganizationId, replacements, changed);
        return new RedactionResult(changed, replacements, skipped);
    }

    public Task<SplitSummary> GetSplitAsync(Guid? agentId, SplitOptions split) => exporter.SplitAsync(OrganizationId, agentId, split);

    public IAsyncEnumerable<string> ExportAsync(ExportRequest request) => exporter.ExportAsync(OrganizationId, request);

    /// <summary>
    /// Tells the organization's few-shot index that these examples changed (one-way: it reads them again itself), so a
    /// validated example becomes selectable, and an edited, un-validated or deleted one stops being, within the second.
    /// </summary>
    private Task ChangedAsync(IReadOnlyList<Guid> exampleIds) =>
        exampleIds.Count == 0 ? Task.CompletedTask : GrainFactory.GetGrain<IExampleIndexGrain>(OrganizationId).ExamplesChangedAsync(exampleIds);

    private IOrganizationGrain Organization => GrainFactory.GetGrain<IOrganizationGrain>(OrganizationId);
}
