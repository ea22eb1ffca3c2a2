namespace ObjectaLabs.Orleans.Providers;

/// <summary>
/// One fine-tuning provider (OpenAI, Together, the sandbox, later Fireworks or Vertex) behind one
/// contract. A provider lives in its own folder under <c>Providers/</c> and is registered under its
/// catalog name; the job grain knows nothing else about it. Every call may throw
/// <see cref="ProviderException"/>, which says whether the fault is transient (retry later, honouring
/// <see cref="ProviderException.RetryAfter"/>) or permanent (the job fails with the provider's message).
/// </summary>
public interface IFineTuningProvider
{
    /// <summary>The provider's catalog name: <c>openai</c>, <c>together</c>, <c>sandbox</c>.</summary>
    string Name { get; }

    /// <summary>True when <see cref="EstimatePriceAsync"/> answers the provider's own price (Together); the others have none to give.</summary>
    bool QuotesPrices { get; }

    /// <summary>
    /// Uploads one training or validation file, streamed from <paramref name="content"/> (never held whole).
    /// <paramref name="sha256"/> is the hex SHA-256 of the bytes, which providers that list files may use to
    /// find an earlier upload of the same bytes (see <see cref="FindFileAsync"/>).
    /// </summary>
    Task<ProviderFile> UploadFileAsync(ProviderAccount account, string fileName, Func<Stream, CancellationToken, Task> writeContent, string sha256, CancellationToken cancellationToken);

    /// <summary>An earlier upload of a file with this name and hash, or null (a re-upload of the same bytes reuses it).</summary>
    Task<ProviderFile?> FindFileAsync(ProviderAccount account, string fileName, string sha256, CancellationToken cancellationToken);

    /// <summary>Creates the job. <see cref="ProviderJobRequest.Reference"/> (our job id) is stored with it where the provider allows.</summary>
    Task<ProviderJob> CreateJobAsync(ProviderAccount account, ProviderJobRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// The provider's job created for our job id (<paramref name="reference"/>), or null: checked before any
    /// re-submission, so a silo that died between the provider's answer and our state write does not submit twice.
    /// </summary>
    Task<ProviderJob?> FindJobByReferenceAsync(ProviderAccount account, string reference, string? suffix, CancellationToken cancellationToken);

    /// <summary>The job as the provider reports it now.</summary>
    Task<ProviderJob> GetJobAsync(ProviderAccount account, string providerJobId, CancellationToken cancellationToken);

    /// <summary>Events after <paramref name="afterCursor"/> (oldest first in the answer), and the cursor to continue from.</summary>
    Task<ProviderEventPage> ListEventsAsync(ProviderAccount account, string providerJobId, string? afterCursor, CancellationToken cancellationToken);

    /// <summary>The job's checkpoints.</summary>
    Task<IReadOnlyList<ProviderCheckpoint>> ListCheckpointsAsync(ProviderAccount account, string providerJobId, CancellationToken cancellationToken);

    /// <summary>Asks the provider to cancel; the job is then followed until the provider says it is cancelled.</summary>
    Task<ProviderJob> CancelJobAsync(ProviderAccount account, string providerJobId, CancellationToken cancellationToken);

    /// <summary>The provider's own price estimate, or null when it offers none (OpenAI) or cannot be reached.</summary>
    Task<ProviderPriceEstimate?> EstimatePriceAsync(ProviderAccount account, ProviderJobRequest request, CancellationToken cancellationToken);
}
