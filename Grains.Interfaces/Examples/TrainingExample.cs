namespace ObjectaLabs.Orleans.Examples;

/// <summary>Where an example came from.</summary>
public enum ExampleSource
{
    Manual = 0,
    Upload = 1,
    Conversation = 2,
}

/// <summary>
/// A stored training example. <see cref="Example"/> is the example itself as one JSON object in the
/// OpenAI chat fine-tuning format (<c>messages</c>, optional <c>tools</c>, <c>parallel_tool_calls</c>, <c>functions</c>).
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.training-example")]
public sealed record class TrainingExample(
    Guid Id,
    Guid? AgentId,
    string Example,
    ExampleSource Source,
    Guid? UploadId,
    Guid? ConversationId,
    IReadOnlyList<string> Tags,
    string? Notes,
    bool IsValidated,
    string? ValidatedBy,
    DateTimeOffset? ValidatedAt,
    decimal? QualityScore,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>A new manual example: the example JSON plus its labels.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.new-example")]
public sealed record class NewExample(string Example, Guid? AgentId, IReadOnlyList<string> Tags, string? Notes);

/// <summary>An edit; null fields stay as they are. Changing the example's content clears its validation.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.example-edit")]
public sealed record class ExampleEdit(string? Example, IReadOnlyList<string>? Tags, string? Notes);

/// <summary>How bad an issue is: errors refuse a line, duplicates are skipped, warnings only inform.</summary>
public enum IssueSeverity
{
    Error = 0,
    Duplicate = 1,
    Warning = 2,
}

/// <summary>One problem with one line (or example): where (JSON path), what (code) and why (reason).</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.example-issue")]
public sealed record class ExampleIssue(long Line, string Path, string Code, string Reason, IssueSeverity Severity = IssueSeverity.Error);
