using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace ObjectaLabs.Orleans.Bench.Hosting;

/// <summary>
/// The HTTP load generators the benchmarks drive (<c>wrk</c> at full load, <c>hey</c> at a fixed rate; bench/run installs
/// them from Debian's packages when missing), their figures parsed from what they print. Any answer other than 2xx fails the run.
/// </summary>
public static partial class BenchLoad
{
    /// <summary>wrk -t2 for <paramref name="duration"/>: requests per second and p99 (ms). A Lua <paramref name="script"/> may shape the requests.</summary>
    public static async Task<(double PerSecond, double P99Ms)> WrkAsync(Uri url, string? key, TimeSpan duration, int connections = 64, string? script = null)
    {
        var args = new List<string> { "-t2", $"-c{connections}", $"-d{(int)Math.Max(1, duration.TotalSeconds)}s", "--latency" };
        if (key is not null)
        {
            args.AddRange(["-H", $"Authorization: Bearer {key}"]);
        }
        if (script is not null)
        {
            args.AddRange(["-s", script]);
        }
        args.Add(url.ToString());
        var output = await RunAsync("wrk", args);
        var perSecond = double.Parse(RequestsPerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        var p99 = WrkP99().Match(output);
        var non2xx = Non2xx().Match(output);
        if (non2xx.Success)
        {
            throw new InvalidOperationException($"wrk saw {non2xx.Groups[1].Value} answers other than 2xx/3xx from {url.AbsolutePath}:\n{output}");
        }
        return (perSecond, Milliseconds(double.Parse(p99.Groups[1].Value, CultureInfo.InvariantCulture), p99.Groups[2].Value));
    }

    /// <summary>hey at a fixed <paramref name="rate"/> for <paramref name="duration"/>: p99 (ms) and the rate achieved.</summary>
    public static async Task<(double P99Ms, double PerSecond)> HeyAsync(Uri url, string? key, TimeSpan duration, int rate)
    {
        // hey's rate is per worker: 50 workers × rate/50 each.
        const int workers = 50;
        var args = new List<string> { "-z", $"{(int)Math.Max(1, duration.TotalSeconds)}s", "-c", workers.ToString(CultureInfo.InvariantCulture), "-q", Math.Max(1, rate / workers).ToString(CultureInfo.InvariantCulture) };
        if (key is not null)
        {
            args.AddRange(["-H", $"Authorization: Bearer {key}"]);
        }
        args.Add(url.ToString());
        var output = await RunAsync("hey", args);
        var statuses = HeyStatus().Matches(output).Select(m => m.Groups[1].Value).ToList();
        if (statuses.Any(s => s != "200"))
        {
            throw new InvalidOperationException($"hey saw answers other than 200 from {url.AbsolutePath}:\n{output}");
        }
        return (double.Parse(HeyP99().Match(output).Groups[1].Value, CultureInfo.InvariantCulture) * 1000,
            double.Parse(RequestsPerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture));
    }

    private static async Task<string> RunAsync(string tool, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{tool} did not start (bench/run installs it when missing).");
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} failed ({process.ExitCode}): {errors}\n{output}");
        }
        return output;
    }

    private static double Milliseconds(double value, string unit) => unit switch
    {
        "us" => value / 1000,
        "ms" => value,
        "s" => value * 1000,
        _ => throw new InvalidOperationException($"unknown unit '{unit}'"),
    };

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"^\s+99%\s+([0-9.]+)(us|ms|s)\s*$", RegexOptions.Multiline)]
    private static partial Regex WrkP99();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex Non2xx();

    [GeneratedRegex(@"99%+ in ([0-9.]+) secs")]
    private static partial Regex HeyP99();

    [GeneratedRegex(@"\[(\d{3})\]\s+\d+ responses")]
    private static partial Regex HeyStatus();
}
