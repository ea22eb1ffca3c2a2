namespace ObjectaLabs.Orleans.Examples;

public enum ValidationFilter
{
    All = 0,
    Validated = 1,
    Pending = 2,
}

/// <summary>List order: newest first, best quality first (unscored last), or by source.</summary>
public enum ExampleSort
{
    Date = 0,
    Quality = 1,
    Source = 2,
}

/// <summary>Which examples to list; <see cref="Search"/> matches message text, case-insensitively.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.example-filter")]
public sealed record class ExampleFilter(
    ValidationFilter Validation = ValidationFilter.All,
    Guid? AgentId = null,
    ExampleSource? Source = null,
    string? Tag = null,
    string? Search = null);

[GenerateSerializer, Immutable, Alias("objectalabs.example-list-request")]
public sealed record class ExampleListRequest(ExampleFilter Filter, ExampleSort Sort = ExampleSort.Date, string? Cursor = null, int Limit = 50);

/// <summary>The counts the Training Data Manager shows, for the filter minus its validation part.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.example-counts")]
public sealed record class ExampleCounts(int Validated, int Pending);

/// <summary>One page; <see cref="NextCursor"/> is null on the last page.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.example-page")]
public sealed record class ExamplePage(IReadOnlyList<TrainingExample> Items, string? NextCursor, ExampleCounts Counts);

/// <summary>Which part of a split an example falls in.</summary>
public enum SplitPart
{
    Train = 0,
    Validation = 1,
}

/// <summary>A deterministic split: the same seed and ratio over the same examples always gives the same parts.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.split-options")]
public sealed record class SplitOptions(int Seed, double ValidationRatio);

/// <summary>Validated examples only, optionally one agent's and one part of a split.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.export-request")]
public sealed record class ExportRequest(Guid? AgentId = null, SplitOptions? Split = null, SplitPart? Part = null);

/// <summary>The sizes of a split; <see cref="Reason"/> says why there is no validation part when there is none.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.split-summary")]
public sealed record class SplitSummary(int Train, int Validation, string? Reason);

/// <summary>A bulk validation: how many examples were validated, and the given ids this organization has no example for.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.bulk-validation")]
public sealed record class BulkValidation(int Validated, IReadOnlyList<Guid> NotFound);
