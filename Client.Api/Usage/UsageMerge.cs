using ObjectaLabs.Orleans.Usage;

namespace ObjectaLabs.Orleans.Api.Usage;

/// <summary>
/// Adds several batches' entries up into one entry per key (requests, successes, tokens, ratings and their squares
/// summed, latencies kept side by side): what the silo's buffer would add up anyway, so counting the sum equals
/// counting each batch, and a call carries a few entries instead of every batch's.
/// </summary>
public static class UsageMerge
{
    public static IReadOnlyList<UsageEntry> Of(IReadOnlyList<UsageBatch> batches)
    {
        var sums = new Dictionary<UsageKey, Sum>();
        foreach (var batch in batches)
        {
            foreach (var entry in batch.Entries)
            {
                if (!sums.TryGetValue(entry.Key, out var sum))
                {
                    sums[entry.Key] = sum = new Sum(entry.Key);
                }
                sum.Add(entry);
            }
        }
        return [.. sums.Values.Select(s => s.Build())];
    }

    private sealed class Sum(UsageKey key)
    {
        private readonly List<long[]> _latencies = [];
        private long _requests, _successes, _input, _output, _ratings, _ratingSum, _ratingSquares, _latencyCount;

        public void Add(UsageEntry entry)
        {
            _requests += entry.Requests;
            _successes += entry.Successes;
            _input += entry.InputTokens;
            _output += entry.OutputTokens;
            _ratings += entry.Ratings;
            _ratingSum += entry.RatingSum;
            _ratingSquares += entry.RatingSquares;
            _latencies.Add(entry.LatenciesMicroseconds);
            _latencyCount += entry.LatenciesMicroseconds.Length;
        }

        public UsageEntry Build()
        {
            var latencies = new long[_latencyCount];
            var at = 0;
            foreach (var part in _latencies)
            {
                part.CopyTo(latencies, at);
                at += part.Length;
            }
            return new UsageEntry(key, 0, _requests, _successes, _input, _output, _ratings, _ratingSum, _ratingSquares, latencies);
        }
    }
}
