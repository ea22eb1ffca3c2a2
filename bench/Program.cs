using System.Globalization;
using ObjectaLabs.Orleans.Bench.Assign;
using ObjectaLabs.Orleans.Bench.Copy;
using ObjectaLabs.Orleans.Bench.Upload;

namespace ObjectaLabs.Orleans.Bench;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var name = args.ElementAtOrDefault(0);
        var examples = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100_000;
        var result = name switch
        {
            "upload" => await UploadBenchmark.RunAsync(examples),
            "copy" => await CopyBenchmark.RunAsync(examples),
            "assign" => AssignBenchmark.Run(args.Length > 1 ? examples : 10_000),
            _ => null,
        };
        if (result is null)
        {
            await Console.Error.WriteLineAsync("usage: bench/run upload|copy|assign [examples|subjects]");
            return 2;
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
