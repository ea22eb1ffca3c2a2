using System.ComponentModel.DataAnnotations;

namespace ObjectaLabs.Orleans.Silo.Hosting;

/// <summary>The silo's own settings (section <c>Orleans</c>); membership tuning binds from <c>Orleans:Membership</c>.</summary>
public sealed class SiloSettings
{
    public const string Section = "Orleans";

    /// <summary>Silos and clients with the same cluster id form one cluster.</summary>
    [Required] public string ClusterId { get; set; } = "objectalabs";

    /// <summary>Keys grain state and reminder rows: never change it on a deployment that holds data.</summary>
    [Required] public string ServiceId { get; set; } = "objectalabs-fine-tuning";

    [Range(1, 65535)] public int SiloPort { get; set; } = 11111;

    [Range(1, 65535)] public int GatewayPort { get; set; } = 30000;

    /// <summary>The address other silos and clients reach this silo at; must be routable between machines.</summary>
    [Required] public string AdvertisedIPAddress { get; set; } = "127.0.0.1";

    /// <summary>Applies the <c>sql/</c> migrations at start-up (off when operators migrate separately).</summary>
    public bool ApplyMigrations { get; set; } = true;

    /// <summary>Orleans' floor for reminder periods; lowered only in tests.</summary>
    public TimeSpan? MinimumReminderPeriod { get; set; }

    /// <summary>Adds the Orleans Dashboard's silo-side services, so the API can show it.</summary>
    public bool Dashboard { get; set; } = true;
}
