using HdrHistogram;
using ObjectaLabs.Orleans.Deployment;

namespace ObjectaLabs.Orleans.Usage;

/// <summary>Moving latencies between a mutable histogram and <see cref="LatencyBuckets"/>, bucket by bucket (nothing is lost: a bucket's value lands in the same bucket).</summary>
public static class LatencyBucketsExtensions
{
    /// <summary>The histogram's non-empty buckets.</summary>
    public static LatencyBuckets Buckets(this HistogramBase histogram)
    {
        if (histogram.TotalCount == 0)
        {
            return LatencyBuckets.Empty;
        }
        var values = new List<long>();
        var counts = new List<long>();
        foreach (var bucket in histogram.RecordedValues())
        {
            values.Add(bucket.ValueIteratedTo);
            counts.Add(bucket.CountAtValueIteratedTo);
        }
        return new LatencyBuckets([.. values], [.. counts]);
    }

    /// <summary>Adds the buckets' counts to <paramref name="histogram"/>.</summary>
    public static void AddTo(this LatencyBuckets buckets, HistogramBase histogram)
    {
        for (var i = 0; i < buckets.Microseconds.Length; i++)
        {
            histogram.RecordValueWithCount(LatencyHistogram.Clamp(buckets.Microseconds[i]), buckets.Counts[i]);
        }
    }
}
