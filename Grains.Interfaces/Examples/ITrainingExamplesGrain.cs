using ObjectaLabs.Orleans.Quality;

namespace ObjectaLabs.Orleans.Examples;

/// <summary>
/// An organization's training examples, keyed by organization id: every call sees that organization's
/// examples and no other's.
/// </summary>
[Alias("objectalabs.ITrainingExamplesGrain")]
public interface ITrainingExamplesGrain : IGrainWithGuidKey
{
    /// <summary>Validates and stores one example; refused with the JSON path at fault, as a duplicate, or over the plan limit.</summary>
    [Alias("create")]
    Task<TrainingExample> CreateAsync(NewExample example);

    /// <summary>One example, or a not-found problem.</summary>
    [Alias("get")]
    Task<TrainingExample> GetAsync(Guid exampleId);

    /// <summary>Edits an example; a content change clears its validation.</summary>
    [Alias("update")]
    Task<TrainingExample> UpdateAsync(Guid exampleId, ExampleEdit edit);

    /// <summary>Deletes an example, or a not-found problem.</summary>
    [Alias("delete")]
    Task DeleteAsync(Guid exampleId);

    /// <summary>Marks an example validated with a quality score in [0, 1].</summary>
    [Alias("validate")]
    Task<TrainingExample> ValidateAsync(Guid exampleId, string validatedBy, decimal qualityScore);

    /// <summary>Marks many examples validated; answers how many were found and marked.</summary>
    [Alias("bulk-validate")]
    Task<BulkValidation> BulkValidateAsync(IReadOnlyList<Guid> exampleIds, string validatedBy, decimal qualityScore);

    /// <summary>A filtered, sorted page with the validated/pending counts.</summary>
    [Alias("list")]
    Task<ExamplePage> ListAsync(ExampleListRequest request);

    /// <summary>Token statistics, duplicates, personal data and best-practice verdicts for a target base model.</summary>
    [Alias("quality")]
    Task<QualityReport> GetQualityReportAsync(QualityRequest request);

    /// <summary>Replaces suspected personal data in the selected examples with placeholders (an edit: clears validation).</summary>
    [Alias("redact")]
    Task<RedactionResult> RedactPersonalDataAsync(QualityRequest request);

    /// <summary>The sizes of a split of the validated examples.</summary>
    [Alias("split")]
    Task<SplitSummary> GetSplitAsync(Guid? agentId, SplitOptions split);

    /// <summary>Validated examples as JSONL lines, streamed.</summary>
    [Alias("export")]
    IAsyncEnumerable<string> ExportAsync(ExportRequest request);
}
