using ObjectaLabs.Orleans.Silo.Hosting;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace ObjectaLabs.Orleans.Tests.Infrastructure;

/// <summary>
/// An in-process Orleans cluster whose grain storage and reminders are the real ADO.NET providers on a
/// fresh PostgreSQL database, configured through the production <see cref="SiloHostBuilder"/>.
/// Membership is the test harness's own; the multi-process tests cover ADO.NET clustering.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    private const string ConnectionStringKey = "TestPostgres";

    public TestCluster Cluster { get; private set; } = null!;
    public TestDatabase Database { get; private set; } = null!;
    public IGrainFactory Grains => Cluster.GrainFactory;

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateAsync();
        var builder = new TestClusterBuilder(1);
        builder.Properties[ConnectionStringKey] = Database.ConnectionString;
        foreach (var (key, value) in KeyRingCertificate.Shared.Settings)
        {
            builder.Properties[key] = value!;
        }
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        await Database.DisposeAsync();
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            var connectionString = siloBuilder.Configuration[ConnectionStringKey]!;
            SiloHostBuilder.ConfigureServiceParts(siloBuilder, siloBuilder.Configuration, connectionString,
                new SiloSettings { MinimumReminderPeriod = TimeSpan.FromMilliseconds(500), Dashboard = false });
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
