namespace ObjectaLabs.Orleans.Models;

/// <summary>
/// One fine-tuned model, keyed by our own model id (derived from the job id, so a retried registration
/// reaches the same grain). Every call names the organization; another organization's id is answered as
/// not found. The registry lifecycle, usage counters and A/B state live here too.
/// </summary>
[Alias("objectalabs.IFineTunedModelGrain")]
public interface IFineTunedModelGrain : IGrainWithGuidKey, ObjectaLabs.Orleans.Usage.IModelUsage
{
    /// <summary>Registers the model; idempotent for the same job, refused for a different one.</summary>
    [Alias("register")]
    Task<FineTunedModelInfo> RegisterAsync(ModelRegistration registration);

    /// <summary>The model, or a not-found problem (also for another organization's id).</summary>
    /// <remarks>
    /// Interleaves with everything: it only reads the committed state, and a model that tells the deployments of a change
    /// is asked for itself by them while that call is in flight (a cycle that would otherwise wait out the call timeout).
    /// </remarks>
    [Alias("get"), global::Orleans.Concurrency.AlwaysInterleave]
    ValueTask<FineTunedModelInfo> GetAsync(Guid organizationId);

    /// <summary>
    /// Renames, describes, or moves the model to another status (see <see cref="ModelStatusRules.AllowedMoves"/>);
    /// a move not allowed, or a name another model of the line's version holds, is refused and changes nothing.
    /// </summary>
    [Alias("update")]
    Task<FineTunedModelInfo> UpdateAsync(Guid organizationId, ModelUpdate update);

    /// <summary>
    /// Records the state of the model's dedicated endpoint (providers that serve fine-tunes only on one); resolution sends
    /// traffic to the model only while it is ready. Refused for models served per token.
    /// </summary>
    [Alias("set-serving")]
    Task<FineTunedModelInfo> SetServingAsync(Guid organizationId, ServingUpdate update);
}

/// <summary>How model ids follow from job ids: one job yields at most one model, whatever retries happen.</summary>
public static class ModelIds
{
    /// <summary>The model id for a job: a name-based UUID (version 5 layout) over the job id.</summary>
    public static Guid ForJob(Guid jobId)
    {
        Span<byte> input = stackalloc byte[16 + 6];
        "model:"u8.CopyTo(input);
        jobId.TryWriteBytes(input[6..], bigEndian: true, out _);
        Span<byte> hash = stackalloc byte[20];
        System.Security.Cryptography.SHA1.HashData(input, hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }
}
