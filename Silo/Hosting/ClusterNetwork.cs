using System.Net;
using ObjectaLabs.Orleans.Hosting;

namespace ObjectaLabs.Orleans.Silo.Hosting;

/// <summary>
/// Decides where the silo's cluster ports may listen. Inside the cluster grains trust every caller (they mint keys
/// and read every tenant), so those ports stay on loopback unless TLS with mutual authentication guards them, or an
/// operator explicitly accepts an insecure network.
/// </summary>
public static class ClusterNetwork
{
    public static IPAddress AdvertisedAddress(SiloSettings settings) =>
        IPAddress.TryParse(settings.AdvertisedIPAddress, out var address)
            ? address
            : throw new InvalidOperationException($"Orleans:AdvertisedIPAddress '{settings.AdvertisedIPAddress}' is not an IP address.");

    /// <summary>Throws, naming the settings, when the silo would listen beyond this machine without TLS.</summary>
    public static void EnsureSafe(SiloSettings settings)
    {
        var advertised = AdvertisedAddress(settings);
        var beyondLoopback = settings.ListenOnAnyAddress || !IPAddress.IsLoopback(advertised);
        if (beyondLoopback && !settings.Tls.Enabled && !settings.AllowInsecureNetwork)
        {
            var where = settings.ListenOnAnyAddress ? "every interface (Orleans:ListenOnAnyAddress)" : $"{advertised} (Orleans:AdvertisedIPAddress)";
            throw new InvalidOperationException(
                $"Refusing to open the cluster ports on {where} without TLS: anyone who reaches them is inside the cluster. " +
                "Configure Orleans:Tls:CertificatePath and Orleans:Tls:AuthorityPath (mutual TLS), or set " +
                $"Orleans:{nameof(ClusterSettings.AllowInsecureNetwork)}=true for a network nothing else can reach.");
        }
    }
}
