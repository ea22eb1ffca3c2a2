using ObjectaLabs.Orleans.Examples;

namespace ObjectaLabs.Orleans.Uploads;

/// <summary>All-or-nothing (the default: one bad line stores nothing) or store the valid lines and report the rest.</summary>
public enum UploadMode
{
    AllOrNothing = 0,
    StoreValid = 1,
}

/// <summary>
/// How to treat an upload. <see cref="BaseModel"/> is the catalog model whose tokenizer and
/// training-example limit the token counts use; <see cref="DryRun"/> checks and counts but stores nothing.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.upload-options")]
public sealed record class UploadOptions(
    UploadMode Mode = UploadMode.AllOrNothing,
    string BaseModel = "openai/gpt-4o-mini-2024-07-18",
    Guid? AgentId = null,
    IReadOnlyList<string>? Tags = null,
    bool DryRun = false);

/// <summary>
/// A piece of a JSONL file made of whole lines (UTF-8, '\n' separated); <see cref="FirstLine"/> is the
/// 1-based number of its first line in the file. With <see cref="LineTooLong"/>, the chunk stands for
/// line <see cref="FirstLine"/> alone, which was longer than the line cap and whose bytes were dropped.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.upload-chunk")]
public sealed record class UploadChunk(long FirstLine, byte[] Data, bool LineTooLong = false);

/// <summary>What one chunk contained: its line count and every issue found in it.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.upload-chunk-result")]
public sealed record class UploadChunkResult(int Lines, int ValidLines, IReadOnlyList<ExampleIssue> Issues);

/// <summary>
/// The answer to a finished upload. <see cref="Issues"/> holds at most the first
/// <c>Uploads:MaxReportedIssues</c> issues (<see cref="IssuesTruncated"/> says whether more were found);
/// <see cref="IssueCounts"/> counts every issue by code. <see cref="NewExamples"/> is how many examples
/// were new to the organization: stored, or for a <see cref="DryRun"/> the number that would have been
/// (<see cref="StoredExamples"/> is then 0).
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.upload-report")]
public sealed record class UploadReport(
    Guid UploadId,
    bool Stored,
    long Lines,
    long ValidLines,
    long InvalidLines,
    long DuplicateLines,
    long StoredExamples,
    long TotalTokens,
    bool TokensApproximate,
    long OverTokenLimit,
    IReadOnlyList<ExampleIssue> Issues,
    bool IssuesTruncated,
    string Summary,
    IReadOnlyDictionary<string, long> IssueCounts,
    bool DryRun,
    long NewExamples);
