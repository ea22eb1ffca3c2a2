using System.ComponentModel.DataAnnotations;

namespace ObjectaLabs.Orleans.Uploads;

/// <summary>
/// The limits of JSONL uploads (section <c>Uploads</c>), read by the API (line cap, deadline) and the
/// silo (all of them); checked at start-up.
/// </summary>
public sealed class UploadSettings
{
    public const string Section = "Uploads";

    /// <summary>The longest line accepted, in bytes; a longer line is refused with its number, never buffered whole.</summary>
    [Range(1024, 256 * 1024 * 1024)]
    public int MaxLineBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>How many issues an upload's answer lists (the first ones); every issue is still counted per code.</summary>
    [Range(1, 100_000)]
    public int MaxReportedIssues { get; set; } = 100;

    /// <summary>The longest an upload may take from start to finish, however steadily it trickles in.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Deadline { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>The longest pause between two chunks; the server also ends a transaction left idle this long.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Uploads one organization may run at once (across all silos); one more is answered 409.</summary>
    [Range(1, 100)]
    public int MaxConcurrentPerOrganization { get; set; } = 2;

    /// <summary>Connections of each silo's upload pool, apart from the pool every other query uses.</summary>
    [Range(1, 1000)]
    public int MaxConnections { get; set; } = 10;

    /// <summary>Cores one upload's chunk may use to check and tokenize its lines; 0 means half of this machine's (at least one).</summary>
    [Range(0, 1024)]
    public int MaxParallelismPerUpload { get; set; }

    /// <summary>Invalid lines after which an upload stops reading and is refused (the file is not a training file).</summary>
    [Range(1, 100_000_000)]
    public int MaxInvalidLines { get; set; } = 10_000;

    /// <summary>The cores a chunk of one upload uses: the setting, or half of the machine's.</summary>
    public int EffectiveParallelism => MaxParallelismPerUpload > 0 ? MaxParallelismPerUpload : Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>How long an upload waits for a free connection of the upload pool before it is refused (503).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan ConnectionWait { get; set; } = TimeSpan.FromSeconds(5);
}
