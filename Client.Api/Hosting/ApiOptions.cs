using System.ComponentModel.DataAnnotations;

namespace ObjectaLabs.Orleans.Api.Hosting;

/// <summary>Section <c>Api</c>: the HTTP layer's limits, validated at start-up.</summary>
public sealed class ApiOptions
{
    public const string Section = "Api";

    /// <summary>The largest request body (larger bodies get 413); uploads have their own limit.</summary>
    [Range(1024, long.MaxValue, ErrorMessage = "Api:MaxRequestBodyBytes must be at least {1} bytes.")]
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>The largest JSONL upload (streamed, never held whole).</summary>
    [Range(1024, long.MaxValue, ErrorMessage = "Api:MaxUploadBytes must be at least {1} bytes.")]
    public long MaxUploadBytes { get; set; } = 512L * 1024 * 1024;
}
