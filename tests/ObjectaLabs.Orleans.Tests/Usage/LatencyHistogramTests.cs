using Microsoft.Extensions.DependencyInjection;
using ObjectaLabs.Orleans.Deployment;
using Orleans.Serialization;

namespace ObjectaLabs.Orleans.Tests.Usage;

public sealed class LatencyHistogramTests
{
    [Fact]
    public void Percentiles_of_merged_histograms_are_exact_while_averaged_percentiles_are_wrong()
    {
        // Silo A served 1,000 requests in 1 ms, silo B 100 requests in 100 ms.
        var siloA = LatencyHistogram.FromMicroseconds(Enumerable.Repeat(1_000L, 1_000));
        var siloB = LatencyHistogram.FromMicroseconds(Enumerable.Repeat(100_000L, 100));
        var merged = siloA.Merge(siloB).Summarize();

        // Of 1,100 requests the 99th percentile is the 1,089th fastest (⌈0.99 × 1,100⌉): one of the 100 ms ones.
        // HdrHistogram keeps 100,000 µs within its 0.1 % bucket, [99,968, 100,032).
        merged.Count.Should().Be(1_100);
        merged.P99Ms.Should().BeApproximately(100, 0.1);
        merged.P50Ms.Should().BeApproximately(1, 0.001);
        // mean = (1,000 × 1 + 100 × 100) / 1,100 = 10 ms
        merged.MeanMs.Should().BeApproximately(10, 0.01);

        // Averaging the silos' p99s gives (1 + 100) / 2 = 50.5 ms and their means (1 + 100) / 2 = 50.5 ms: both wrong.
        var averagedP99 = (siloA.Summarize().P99Ms!.Value + siloB.Summarize().P99Ms!.Value) / 2;
        averagedP99.Should().BeApproximately(50.5, 0.1);
        averagedP99.Should().NotBeApproximately(merged.P99Ms!.Value, 10);
    }

    [Fact]
    public void Merging_hours_and_silos_gives_exactly_the_histogram_of_all_values_recorded_in_one_place()
    {
        var random = new Random(42);
        var values = Enumerable.Range(0, 20_000).Select(_ => (long)(Math.Exp(random.NextDouble() * 12) + 100)).ToList(); // 0.1 ms … 160 s
        var parts = values.Chunk(2_500).Select(chunk => LatencyHistogram.FromMicroseconds(chunk)).ToList();

        var merged = LatencyHistogram.MergeAll(parts);
        var pairwise = parts.Aggregate(LatencyHistogram.Empty, (sum, part) => sum.Merge(part));
        var whole = LatencyHistogram.FromMicroseconds(values);

        merged.Summarize().Should().Be(whole.Summarize());
        pairwise.Summarize().Should().Be(whole.Summarize());
        merged.Should().Be(whole);
    }

    [Fact]
    public void Encoded_bytes_round_trip_and_stay_compact()
    {
        var random = new Random(7);
        var histogram = LatencyHistogram.FromMicroseconds(Enumerable.Range(0, 10_000).Select(_ => (long)random.Next(1_000, 1_000_000)));

        var copy = new LatencyHistogram(histogram.Encoded.ToArray()); // as read back from a bytea column
        copy.Summarize().Should().Be(histogram.Summarize());
        copy.Count.Should().Be(10_000);
        // 10,000 latencies from 1 ms to 1 s in a few KB (the raw counts array would be ~180 KB).
        histogram.Encoded.Length.Should().BeLessThan(8_192);
    }

    [Fact]
    public void Orleans_serialization_round_trips_histograms_and_usage_totals()
    {
        using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();
        var latency = LatencyHistogram.FromMicroseconds([1_200, 3_400, 56_000]);
        var totals = new UsageTotals(3, 2, 300, 120, 0.0042m, 1, 2, 9, 41, latency);

        var copy = serializer.Deserialize<UsageTotals>(serializer.SerializeToArray(totals));

        copy.Should().Be(totals);
        copy.Latency.Summarize().Should().Be(latency.Summarize());
    }

    [Fact]
    public void An_empty_histogram_has_no_figures_and_merges_as_identity()
    {
        var empty = LatencyHistogram.Empty.Summarize();
        empty.Should().Be(new LatencySummary(0, null, null, null, null, null));
        var one = LatencyHistogram.FromMicroseconds([5_000]);
        LatencyHistogram.Empty.Merge(one).Should().Be(one);
        one.Merge(LatencyHistogram.Empty).Should().Be(one);
        LatencyHistogram.MergeAll([]).IsEmpty.Should().BeTrue();
    }

    [Fact]
    public void Latencies_beyond_an_hour_count_at_an_hour_and_negative_ones_at_zero()
    {
        var summary = LatencyHistogram.FromMicroseconds([-5, 10_000_000_000]).Summarize();
        summary.Count.Should().Be(2);
        summary.P50Ms.Should().Be(0);
        summary.MaxMs.Should().BeApproximately(3_600_000, 3_600); // 1 hour within 0.1 %
    }
}

public sealed class LatencyBucketsTests
{
    [Fact]
    public void A_histogram_handed_over_as_buckets_reads_the_same_once_added_to_another()
    {
        var random = new Random(3);
        var source = ObjectaLabs.Orleans.Deployment.LatencyHistogram.NewCounts();
        var values = Enumerable.Range(0, 20_000).Select(_ => (long)random.Next(200, 5_000_000)).ToList();
        foreach (var value in values)
        {
            source.RecordValue(value);
        }
        var target = ObjectaLabs.Orleans.Deployment.LatencyHistogram.NewCounts();

        var buckets = ObjectaLabs.Orleans.Usage.LatencyBucketsExtensions.Buckets(source);
        ObjectaLabs.Orleans.Usage.LatencyBucketsExtensions.AddTo(buckets, target);

        buckets.Counts.Sum().Should().Be(20_000);
        buckets.Microseconds.Length.Should().BeLessThan(20_000, "only non-empty buckets travel");
        ObjectaLabs.Orleans.Deployment.LatencyHistogram.Of(target).Summarize()
            .Should().Be(ObjectaLabs.Orleans.Deployment.LatencyHistogram.FromMicroseconds(values).Summarize());
        ObjectaLabs.Orleans.Usage.LatencyBucketsExtensions.Buckets(ObjectaLabs.Orleans.Deployment.LatencyHistogram.NewCounts())
            .Should().BeSameAs(ObjectaLabs.Orleans.Usage.LatencyBuckets.Empty);
    }
}
