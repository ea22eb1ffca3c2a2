using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using ObjectaLabs.Orleans.Deployment;

namespace ObjectaLabs.Orleans.Bench.Assign;

/// <summary>
/// Sticky assignment per request (<see cref="StickyAssignment.Assign(Guid, ReadOnlySpan{char}, double)"/>: format
/// the experiment id, encode both strings, SHA-256, compare) against a plain SHA-256 of the same message bytes,
/// prepared in advance. One thread, alternating rounds; the best round of each counts.
/// </summary>
public static class AssignBenchmark
{
    private const int Rounds = 5;

    /// <summary>Runs <c>Rounds</c> timed rounds of each (plus one warm-up), each lasting <paramref name="roundTime"/>.</summary>
    public static BenchResult Run(int subjects, TimeSpan roundTime)
    {
        var experiment = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
        var keys = Enumerable.Range(0, subjects).Select(i => $"conversation-{i:D8}").ToArray();
        var messages = keys.Select(key => Message(experiment.ToString("D"), key)).ToArray();

        var candidates = 0L;
        double ours = 0, baseline = 0;
        for (var round = 0; round <= Rounds; round++)
        {
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var (calls, seconds) = Time(roundTime, i => candidates += StickyAssignment.Assign(experiment, keys[i % keys.Length], 0.5) == ExperimentArm.Candidate ? 1 : 0);
            var perCall = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)calls;
            var (hashes, hashSeconds) = Time(roundTime, i =>
            {
                Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
                SHA256.HashData(messages[i % messages.Length], hash);
                candidates += hash[0] & 1;
            });
            if (round > 0) // round 0 warms up
            {
                ours = Math.Max(ours, calls / seconds);
                baseline = Math.Max(baseline, hashes / hashSeconds);
            }
            Console.WriteLine($"round {round}: assign {calls / seconds:F0}/s ({perCall:F2} bytes allocated per call), sha-256 {hashes / hashSeconds:F0}/s");
        }
        Console.WriteLine($"({candidates} candidate draws, printed so the loops are not optimized away)");
        return new BenchResult("assign", ours, baseline, "");
    }

    private static (long Calls, double Seconds) Time(TimeSpan roundTime, Action<int> call)
    {
        var watch = Stopwatch.StartNew();
        long calls = 0;
        while (watch.Elapsed < roundTime)
        {
            for (var i = 0; i < 10_000; i++)
            {
                call((int)(calls + i));
            }
            calls += 10_000;
        }
        return (calls, watch.Elapsed.TotalSeconds);
    }

    private static byte[] Message(string id, string key)
    {
        var idBytes = Encoding.UTF8.GetBytes(id);
        var keyBytes = Encoding.UTF8.GetBytes(key);
        var message = new byte[8 + idBytes.Length + keyBytes.Length];
        BinaryPrimitives.WriteUInt32BigEndian(message, (uint)idBytes.Length);
        idBytes.CopyTo(message, 4);
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(4 + idBytes.Length), (uint)keyBytes.Length);
        keyBytes.CopyTo(message, 8 + idBytes.Length);
        return message;
    }
}
