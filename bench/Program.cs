using System.Globalization;
using ObjectaLabs.Orleans.Bench.Assign;
using ObjectaLabs.Orleans.Bench.Copy;
using ObjectaLabs.Orleans.Bench.FewShot;
using ObjectaLabs.Orleans.Bench.Jobs;
using ObjectaLabs.Orleans.Bench.Resolve;
using ObjectaLabs.Orleans.Bench.Upload;
using ObjectaLabs.Orleans.Bench.Usage;

namespace ObjectaLabs.Orleans.Bench;

public static class Program
{
    private const string Usage = "usage: bench/run upload|copy|assign|jobs|resolve|usage|fewshot [examples|subjects|jobs|seconds|smoke]";

    public static async Task<int> Main(string[] args)
    {
        var name = args.ElementAtOrDefault(0);
        var size = args.ElementAtOrDefault(1);
        // "smoke": sizes small enough to finish in seconds, for CI; it proves the benchmark runs, not how fast.
        var smoke = size == "smoke";
        int? count = null;
        if (size is not null && !smoke)
        {
            if (!int.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
            {
                await Console.Error.WriteLineAsync(Usage);
                return 2;
            }
            count = n;
        }
        var result = name switch
        {
            "upload" => await UploadBenchmark.RunAsync(smoke ? 300 : count ?? 100_000),
            "copy" => await CopyBenchmark.RunAsync(smoke ? 300 : count ?? 100_000),
            "assign" => AssignBenchmark.Run(smoke ? 1_000 : count ?? 10_000, TimeSpan.FromSeconds(smoke ? 0.1 : 1)),
            // 10,000 jobs polled every 10 s (an accelerated period: in production 1 minute) for 30 s.
            "jobs" => await JobsBenchmark.RunAsync(smoke ? 50 : count ?? 10_000, TimeSpan.FromSeconds(smoke ? 1 : 10), TimeSpan.FromSeconds(smoke ? 3 : 30)),
            // 3 rounds of wrk -t2 -c64 for 10 s on each endpoint, then of hey at a fixed 10,000 req/s (SIZE: seconds per run).
            "resolve" => await ResolveBenchmark.RunAsync(TimeSpan.FromSeconds(smoke ? 1 : count ?? 10), smoke ? 500 : 10_000, smoke ? 1 : 3),
            // 10 rounds of 3 s on each endpoint in alternating order, 64 batches of 100 events in flight (SIZE: seconds per run).
            "usage" => await UsageBenchmark.RunAsync(TimeSpan.FromSeconds(smoke ? 1 : count ?? 3), smoke ? 1 : 10),
            // 3 rounds of wrk -t2 -c32 for 10 s on each of resolution and resolution with selection over 100,000 examples (SIZE: examples).
            "fewshot" => await FewShotBenchmark.RunAsync(smoke ? 2_000 : count ?? 100_000, TimeSpan.FromSeconds(smoke ? 1 : 10), smoke ? 1 : 3),
            _ => null,
        };
        if (result is null)
        {
            await Console.Error.WriteLineAsync(Usage);
            return 2;
        }
        if (smoke)
        {
            Console.WriteLine("smoke run: too small to measure; the ratio below says only that the benchmark ran");
        }
        Console.WriteLine(result.ToString());
        return 0;
    }
}

/// <summary>One benchmark's outcome, printed as its last line.</summary>
public sealed record class BenchResult(string Name, double Ours, double Baseline, string Unit)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Name} ratio={Ours / Baseline:F2} (ours {Ours:F0}{PerSecond}, baseline {Baseline:F0}{PerSecond})");

    private string PerSecond => Unit.Length == 0 ? "/s" : $" {Unit}/s";
}
