namespace ObjectaLabs.Orleans.Uploads;

/// <summary>
/// One JSONL upload, keyed by (upload id, organization id as the key extension). The file arrives in
/// chunks of whole lines, so no process ever holds it whole; nothing becomes visible before
/// <see cref="CompleteAsync"/>, and an upload abandoned or interrupted at any point leaves nothing behind.
/// </summary>
[Alias("objectalabs.IExampleUploadGrain")]
public interface IExampleUploadGrain : IGrainWithGuidCompoundKey
{
    /// <summary>Opens the upload; refused if it was already started.</summary>
    [Alias("start")]
    Task StartAsync(UploadOptions options);

    /// <summary>Checks and stages one chunk; answers the issues found in it.</summary>
    [Alias("append")]
    Task<UploadChunkResult> AppendAsync(UploadChunk chunk);

    /// <summary>Reports duplicates and, unless the mode or a dry run says otherwise, stores the examples in one transaction.</summary>
    [Alias("complete"), ResponseTimeout("00:10:00")]
    Task<UploadReport> CompleteAsync();

    /// <summary>Drops everything staged.</summary>
    [Alias("abort")]
    Task AbortAsync();
}
