using System.ComponentModel.DataAnnotations;

namespace ObjectaLabs.Orleans.Hosting;

/// <summary>
/// What every silo, every API process and every test of one deployment must agree on to form one
/// cluster on one database (section <c>Orleans</c>). The silo's own settings extend it; the API binds it.
/// </summary>
public class ClusterSettings
{
    public const string Section = "Orleans";

    /// <summary>The ADO.NET invariant of the PostgreSQL provider (Npgsql), for clustering, storage and reminders.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>The name under <c>ConnectionStrings</c> of the one PostgreSQL database (<c>ConnectionStrings__Postgres</c>).</summary>
    public const string ConnectionStringName = "Postgres";

    public const string DefaultClusterId = "objectalabs";
    public const string DefaultServiceId = "objectalabs-fine-tuning";

    /// <summary>Silos and clients with the same cluster id form one cluster.</summary>
    [Required(ErrorMessage = "Orleans:ClusterId is required.")]
    public string ClusterId { get; set; } = DefaultClusterId;

    /// <summary>Keys grain state and reminder rows: never change it on a deployment that holds data.</summary>
    [Required(ErrorMessage = "Orleans:ServiceId is required.")]
    public string ServiceId { get; set; } = DefaultServiceId;

    /// <summary>TLS with mutual authentication for silo-to-silo and client-to-gateway traffic (<c>Orleans:Tls</c>).</summary>
    public ClusterTlsSettings Tls { get; set; } = new();

    /// <summary>
    /// Allows cluster traffic on a non-loopback address without TLS. Anyone who reaches those ports is inside
    /// the cluster, where grains trust every caller: only for a network that nothing else can reach.
    /// </summary>
    public bool AllowInsecureNetwork { get; set; }

    /// <summary>
    /// Lets database exceptions (Npgsql's) cross from a silo to the API like the framework's own: Orleans' exception
    /// codec only takes types of the namespaces it lists, and failed to encode any other, so a database outage in a
    /// grain reached the API as a codec error (a 500) instead of the fault the API answers 503 for. Silos and
    /// clients both call this.
    /// </summary>
    public static void CarryDatabaseFaults(Microsoft.Extensions.DependencyInjection.IServiceCollection services) =>
        Microsoft.Extensions.DependencyInjection.OptionsServiceCollectionExtensions.Configure<global::Orleans.Serialization.ExceptionSerializationOptions>(
            services, o => o.SupportedNamespacePrefixes.Add("Npgsql"));
}
