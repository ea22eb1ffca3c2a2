using System.ComponentModel.DataAnnotations;

namespace ObjectaLabs.Orleans.Providers.Accounts;

/// <summary><c>Providers:OpenAI</c>: the platform's OpenAI account. No key: OpenAI is "not configured".</summary>
public sealed class OpenAiProviderOptions
{
    public const string Section = "Providers:OpenAI";

    /// <summary>The platform's API key; empty means the platform has no OpenAI account (BYO keys still work).</summary>
    public string? ApiKey { get; set; }

    /// <summary>The API's base URL including <c>/v1</c> (the SDK uses it verbatim as the prefix).</summary>
    [Required]
    public Uri BaseUrl { get; set; } = new("https://api.openai.com/v1");

    /// <summary>Sent as <c>OpenAI-Organization</c> when set.</summary>
    public string? OrganizationId { get; set; }

    /// <summary>How long one call may take before it counts as a transient timeout.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Items per page when listing jobs, events and checkpoints (OpenAI allows up to 100 for these lists).</summary>
    [Range(1, 100)]
    public int PageSize { get; set; } = 100;

    /// <summary>The last day OpenAI accepts new fine-tuning jobs from anyone (its published wind-down).</summary>
    public DateOnly NewJobsEndDate { get; set; } = new(2027, 1, 6);
}

/// <summary><c>Providers:Together</c>: the platform's Together account. No key: Together is "not configured".</summary>
public sealed class TogetherProviderOptions
{
    public const string Section = "Providers:Together";

    public string? ApiKey { get; set; }

    /// <summary>The API's base URL including <c>/v1</c>.</summary>
    [Required]
    public Uri BaseUrl { get; set; } = new("https://api.together.xyz/v1");

    /// <summary>How long one attempt may take before it counts as a timeout (and is retried when safe).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Retries of a transient fault within one call (idempotent requests only).</summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 3;

    /// <summary>The first retry's delay; later ones back off exponentially with jitter.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// A <c>Retry-After</c> longer than this is not waited out inside the call: the fault goes back to the
    /// job grain as transient with the delay, and its reminder comes back later instead of holding a turn.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan MaxInlineRetryAfter { get; set; } = TimeSpan.FromSeconds(5);
}
