using Microsoft.Extensions.DependencyInjection;
using ObjectaLabs.Orleans.Hosting;
using ObjectaLabs.Orleans.Tests.Infrastructure;
using Orleans.Runtime;
using Orleans.Storage;

namespace ObjectaLabs.Orleans.Tests.Cluster;

/// <summary>Our own <c>sql/0003</c> against the real ADO.NET storage provider: versions and conflicts.</summary>
[Collection(ClusterCollection.Name)]
public sealed class StorageContractTests(ClusterFixture fixture)
{
    private IGrainStorage Storage => fixture.Cluster.GetSiloServiceProvider().GetRequiredKeyedService<IGrainStorage>(StorageNames.Postgres);

    public sealed class Counter
    {
        public int Value { get; set; }
    }

    [Fact]
    public async Task A_write_with_a_stale_etag_is_refused_as_a_conflict()
    {
        var grainId = GrainId.Create("contract-test", Guid.NewGuid().ToString("N"));
        var first = new GrainState<Counter>(new Counter { Value = 1 });
        await Storage.WriteStateAsync("counter", grainId, first);
        var stale = new GrainState<Counter>(new Counter { Value = 99 }) { ETag = first.ETag };
        first.State!.Value = 2;
        await Storage.WriteStateAsync("counter", grainId, first);

        var conflicting = () => Storage.WriteStateAsync("counter", grainId, stale);

        await conflicting.Should().ThrowAsync<InconsistentStateException>();
        var read = new GrainState<Counter>(new Counter());
        await Storage.ReadStateAsync("counter", grainId, read);
        read.State!.Value.Should().Be(2);
        read.RecordExists.Should().BeTrue();
        read.ETag.Should().Be(first.ETag);
    }

    [Fact]
    public async Task Two_first_writers_cannot_both_create_the_row()
    {
        var grainId = GrainId.Create("contract-test", Guid.NewGuid().ToString("N"));
        var a = new GrainState<Counter>(new Counter { Value = 1 });
        var b = new GrainState<Counter>(new Counter { Value = 2 });

        await Storage.WriteStateAsync("counter", grainId, a);
        var second = () => Storage.WriteStateAsync("counter", grainId, b);

        await second.Should().ThrowAsync<InconsistentStateException>();
    }

    [Fact]
    public async Task Clearing_then_writing_again_works_and_a_missing_row_reads_as_absent()
    {
        var grainId = GrainId.Create("contract-test", Guid.NewGuid().ToString("N"));
        var absent = new GrainState<Counter>(new Counter());
        await Storage.ReadStateAsync("counter", grainId, absent);
        absent.RecordExists.Should().BeFalse();

        var state = new GrainState<Counter>(new Counter { Value = 5 });
        await Storage.WriteStateAsync("counter", grainId, state);
        await Storage.ClearStateAsync("counter", grainId, state);
        state.State!.Value = 6;
        await Storage.WriteStateAsync("counter", grainId, state);

        var read = new GrainState<Counter>(new Counter());
        await Storage.ReadStateAsync("counter", grainId, read);
        read.State!.Value.Should().Be(6);
    }
}
