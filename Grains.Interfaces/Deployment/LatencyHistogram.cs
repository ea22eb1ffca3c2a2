using HdrHistogram;
using HdrHistogram.Utilities;

namespace ObjectaLabs.Orleans.Deployment;

/// <summary>
/// An immutable latency histogram (HdrHistogram, microseconds from 1 µs to 1 hour, 3 significant digits:
/// every value is kept within 0.1 %), held as HdrHistogram's compressed V2 encoding so it can go as is into
/// grain state or a <c>bytea</c> column. Histograms from different silos and hours merge exactly (their
/// counts add); percentiles are read from the merged histogram, never averaged.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.latency-histogram")]
public sealed record class LatencyHistogram
{
    /// <summary>The largest latency kept; a slower request is counted at this value.</summary>
    public const long HighestMicroseconds = 3_600_000_000;

    /// <summary>Decimal digits of precision kept for every value.</summary>
    public const int SignificantDigits = 3;

    public LatencyHistogram(byte[] encoded) => Encoded = encoded;

    /// <summary>A histogram with no values (an empty encoding).</summary>
    public static LatencyHistogram Empty { get; } = new([]);

    /// <summary>HdrHistogram's compressed V2 encoding; empty for an empty histogram.</summary>
    [Id(0)] public byte[] Encoded { get; }

    /// <summary>True when no value was recorded.</summary>
    public bool IsEmpty => Encoded.Length == 0;

    /// <summary>A histogram of the given latencies in microseconds (clamped to 0 … <see cref="HighestMicroseconds"/>).</summary>
    public static LatencyHistogram FromMicroseconds(IEnumerable<long> values)
    {
        var histogram = NewHistogram();
        foreach (var value in values)
        {
            histogram.RecordValue(Clamp(value));
        }
        return From(histogram);
    }

    /// <summary>Both histograms' values together: exact, since counts in the same buckets add.</summary>
    public LatencyHistogram Merge(LatencyHistogram other)
    {
        if (other.IsEmpty)
        {
            return this;
        }
        if (IsEmpty)
        {
            return other;
        }
        var merged = Decode();
        merged.Add(other.Decode());
        return From(merged);
    }

    /// <summary>All histograms' values together.</summary>
    public static LatencyHistogram MergeAll(IEnumerable<LatencyHistogram> histograms)
    {
        HistogramBase? merged = null;
        foreach (var histogram in histograms)
        {
            if (histogram.IsEmpty)
            {
                continue;
            }
            if (merged is null)
            {
                merged = histogram.Decode();
            }
            else
            {
                merged.Add(histogram.Decode());
            }
        }
        return merged is null ? Empty : From(merged);
    }

    /// <summary>Count, mean and percentiles of the recorded values, in milliseconds; null figures when empty.</summary>
    public LatencySummary Summarize()
    {
        if (IsEmpty)
        {
            return new LatencySummary(0, null, null, null, null, null);
        }
        var histogram = Decode();
        return new LatencySummary(
            histogram.TotalCount,
            histogram.GetMean() / 1000.0,
            histogram.GetValueAtPercentile(50) / 1000.0,
            histogram.GetValueAtPercentile(95) / 1000.0,
            histogram.GetValueAtPercentile(99) / 1000.0,
            histogram.GetValueAtPercentile(100) / 1000.0);
    }

    /// <summary>The number of recorded values.</summary>
    public long Count => IsEmpty ? 0 : Decode().TotalCount;

    public bool Equals(LatencyHistogram? other) => other is not null && Encoded.AsSpan().SequenceEqual(other.Encoded);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Encoded);
        return hash.ToHashCode();
    }

    /// <summary>An empty mutable histogram of this layout, to record into and then take with <see cref="Of"/>.</summary>
    public static HistogramBase NewCounts() => NewHistogram();

    /// <summary>The immutable, encoded form of <paramref name="histogram"/>'s values now.</summary>
    public static LatencyHistogram Of(HistogramBase histogram) => From(histogram);

    /// <summary>Adds this histogram's values to <paramref name="target"/> (one of <see cref="NewCounts"/>).</summary>
    public void AddTo(HistogramBase target)
    {
        if (!IsEmpty)
        {
            target.Add(Decode());
        }
    }

    internal static HistogramBase NewHistogram() => new LongHistogram(HighestMicroseconds, SignificantDigits);

    public static long Clamp(long microseconds) => Math.Clamp(microseconds, 0, HighestMicroseconds);

    // The encoding's scratch buffer, as large as an uncompressed histogram (on the large-object heap): one per thread, reused.
    [ThreadStatic]
    private static ByteBuffer? t_scratch;
    [ThreadStatic]
    private static int t_scratchCapacity;

    internal static LatencyHistogram From(HistogramBase histogram)
    {
        if (histogram.TotalCount == 0)
        {
            return Empty;
        }
        var needed = histogram.GetNeededByteBufferCapacity();
        if (t_scratch is null || t_scratchCapacity < needed)
        {
            t_scratch = ByteBuffer.Allocate(needed);
            t_scratchCapacity = needed;
        }
        var buffer = t_scratch;
        buffer.Position = 0;
        var length = histogram.EncodeIntoCompressedByteBuffer(buffer);
        var encoded = new byte[length];
        buffer.Position = 0;
        for (var i = 0; i < length; i++)
        {
            encoded[i] = buffer.Get();
        }
        return new LatencyHistogram(encoded);
    }

    internal HistogramBase Decode()
    {
        var decoded = HistogramEncoding.DecodeFromCompressedByteBuffer(ByteBuffer.Allocate(Encoded), HighestMicroseconds);
        if (decoded.HighestTrackableValue >= HighestMicroseconds && decoded.NumberOfSignificantValueDigits == SignificantDigits)
        {
            return decoded;
        }
        // An encoding from other settings: copy its values into our layout so Add never overflows.
        var histogram = NewHistogram();
        histogram.Add(decoded);
        return histogram;
    }
}

/// <summary>Latency figures in milliseconds read from one (merged) histogram; null when it is empty.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.latency-summary")]
public sealed record class LatencySummary(long Count, double? MeanMs, double? P50Ms, double? P95Ms, double? P99Ms, double? MaxMs);
