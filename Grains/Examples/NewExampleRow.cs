namespace ObjectaLabs.Orleans.Examples;

/// <summary>A checked example about to be stored, with everything its row needs.</summary>
public sealed record class NewExampleRow(
    Guid Id,
    Guid? AgentId,
    CheckedExample Example,
    ExampleSource Source,
    IReadOnlyList<string> Tags,
    DateTimeOffset CreatedAt,
    Guid? UploadId = null,
    Guid? ConversationId = null,
    int? ConversationPart = null,
    string? Notes = null,
    string? ValidatedBy = null,
    decimal? QualityScore = null);
