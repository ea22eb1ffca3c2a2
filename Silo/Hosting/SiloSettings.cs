using System.ComponentModel.DataAnnotations;
using ObjectaLabs.Orleans.Hosting;

namespace ObjectaLabs.Orleans.Silo.Hosting;

/// <summary>The silo's own settings (section <c>Orleans</c>); membership tuning binds from <c>Orleans:Membership</c>.</summary>
public sealed class SiloSettings : ClusterSettings
{
    [Range(1, 65535, ErrorMessage = "Orleans:SiloPort must be between 1 and 65535.")]
    public int SiloPort { get; set; } = 11111;

    [Range(1, 65535, ErrorMessage = "Orleans:GatewayPort must be between 1 and 65535.")]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// The address other silos and clients reach this silo at, and the one it listens on. Loopback by default:
    /// a non-loopback address needs TLS (<c>Orleans:Tls</c>) or <c>Orleans:AllowInsecureNetwork</c>.
    /// </summary>
    [Required(ErrorMessage = "Orleans:AdvertisedIPAddress is required.")]
    public string AdvertisedIPAddress { get; set; } = "127.0.0.1";

    /// <summary>Listens on every interface instead of only <see cref="AdvertisedIPAddress"/> (behind NAT or in containers).</summary>
    public bool ListenOnAnyAddress { get; set; }

    /// <summary>Applies the <c>sql/</c> migrations at start-up (off when operators migrate separately).</summary>
    public bool ApplyMigrations { get; set; } = true;

    /// <summary>Orleans' floor for reminder periods; lowered only in tests.</summary>
    public TimeSpan? MinimumReminderPeriod { get; set; }

    /// <summary>Adds the Orleans Dashboard's silo-side services, so the API can show it.</summary>
    public bool Dashboard { get; set; } = true;

    /// <summary>
    /// How long a graceful stop may take (grains deactivate, state is written, the silo leaves the membership table).
    /// The silo process exits at the latest <see cref="ShutdownGrace"/> later, even when the database is gone.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(10);
}
