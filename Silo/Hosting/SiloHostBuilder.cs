using Microsoft.Extensions.Options;
using Npgsql;
using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Conversations;
using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Export;
using ObjectaLabs.Orleans.Hosting;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Plans;
using ObjectaLabs.Orleans.Providers.Accounts;
using ObjectaLabs.Orleans.Quality;
using ObjectaLabs.Orleans.Silo.Database;
using ObjectaLabs.Orleans.Tokens;
using ObjectaLabs.Orleans.Training.Jobs;
using ObjectaLabs.Orleans.Uploads;
using ObjectaLabs.Orleans.Usage;
using Orleans.Configuration;
using Orleans.Dashboard;

namespace ObjectaLabs.Orleans.Silo.Hosting;

/// <summary>
/// Everything a silo of this service needs, in one place: the production host and the test
/// clusters both configure their silos through here, so tests run what production runs.
/// </summary>
public static class SiloHostBuilder
{
    public const string Invariant = ClusterSettings.Invariant;
    public const string ConnectionStringName = ClusterSettings.ConnectionStringName;

    /// <summary>Builds a silo host from the command line and environment.</summary>
    public static IHost Build(string[] args, Action<HostApplicationBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(args);
        configure?.Invoke(builder);
        var connectionString = RequireConnectionString(builder.Configuration);
        var settings = builder.Configuration.GetSection(SiloSettings.Section).Get<SiloSettings>() ?? new SiloSettings();
        // Checked now, not at start: the endpoints and TLS below are built from these values.
        System.ComponentModel.DataAnnotations.Validator.ValidateObject(settings, new(settings), validateAllProperties: true);
        ClusterNetwork.EnsureSafe(settings);
        ConsoleLogs.Configure(builder.Logging, builder.Configuration);

        builder.Services.AddOptions<SiloSettings>().BindConfiguration(SiloSettings.Section).ValidateDataAnnotations().ValidateOnStart();
        // Bounds the graceful stop; Program's watchdog ends the process if Orleans still hangs (e.g. database gone).
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.ShutdownTimeout);
        if (settings.ApplyMigrations)
        {
            // Registered before Orleans, so the schema exists before any provider reads OrleansQuery.
            builder.Services.AddHostedService<MigrationHostedService>();
        }
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = settings.ClusterId;
                o.ServiceId = settings.ServiceId;
            });
            // Listens where it advertises (loopback by default); ClusterNetwork refused anything wider without TLS.
            silo.ConfigureEndpoints(ClusterNetwork.AdvertisedAddress(settings), settings.SiloPort, settings.GatewayPort,
                listenOnAnyHostAddress: settings.ListenOnAnyAddress);
            if (settings.Tls.Enabled)
            {
                ClusterTls.Use(silo, settings.Tls);
            }
            silo.UseAdoNetClustering(o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = connectionString;
            });
            ConfigureServiceParts(silo, builder.Configuration, connectionString, settings);
        });
        return builder.Build();
    }

    /// <summary>
    /// Storage, reminders, serializer, application services and dashboard: everything but membership
    /// and endpoints, which a test cluster supplies itself.
    /// </summary>
    public static void ConfigureServiceParts(ISiloBuilder silo, IConfiguration configuration, string connectionString, SiloSettings settings)
    {
        silo.AddAdoNetGrainStorage(StorageNames.Postgres, o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connectionString;
        });
        // System.Text.Json for grain state: rows stay readable in SQL and carry no CLR type or
        // assembly names, so renaming or moving a class does not orphan stored state.
        silo.UseSystemTextJsonGrainStorageSerializer();
        silo.UseAdoNetReminderService(o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connectionString;
        });
        if (settings.MinimumReminderPeriod is { } minimum)
        {
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = minimum);
        }
        ClusterSettings.CarryDatabaseFaults(silo.Services);
        silo.Services.Configure<ClusterMembershipOptions>(configuration.GetSection($"{SiloSettings.Section}:Membership"));
        if (settings.Dashboard)
        {
            silo.AddDashboard(o => o.HideTrace = true);
        }
        AddApplicationServices(silo.Services, configuration, connectionString);
    }

    public static void AddApplicationServices(IServiceCollection services, IConfiguration configuration, string connectionString)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString) { Name = "objectalabs" }.Build());
        services.AddOptions<PlanOptions>().BindConfiguration(PlanOptions.Section);
        services.AddSingleton(sp => PlanCatalog.Load(sp.GetRequiredService<IOptions<PlanOptions>>().Value.File));
        services.AddSingleton<OrganizationRows>();
        services.AddOptions<BaseModelCatalogOptions>().BindConfiguration(BaseModelCatalogOptions.Section);
        services.AddSingleton(sp =>
        {
            var catalog = BaseModelCatalog.Load(sp.GetRequiredService<IOptions<BaseModelCatalogOptions>>().Value.File);
            catalog.CheckPlans(sp.GetRequiredService<PlanCatalog>());
            return catalog;
        });
        services.AddSingleton<TokenizerCache>();
        services.AddOptions<UploadSettings>().BindConfiguration(UploadSettings.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => new UploadDataSource(connectionString, sp.GetRequiredService<IOptions<UploadSettings>>()));
        services.AddSingleton<ExampleRows>();
        services.AddSingleton<ObjectaLabs.Orleans.FewShot.FewShotSelector>();
        services.AddOptions<ObjectaLabs.Orleans.FewShot.EmbeddingsOptions>().BindConfiguration(ObjectaLabs.Orleans.FewShot.EmbeddingsOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ObjectaLabs.Orleans.FewShot.ExampleEmbedder>();
        services.AddSingleton<ObjectaLabs.Orleans.FewShot.ExampleEmbeddingRows>();
        services.AddSingleton<UploadFairness>();
        services.AddSingleton<ConversationRows>();
        services.AddSingleton<ConversationImporter>();
        services.AddSingleton<QualityAnalyzer>();
        services.AddSingleton<ExampleExporter>();
        services.AddSingleton<MigrationRunner>();
        services.AddFineTuningProviders(configuration);
        services.AddOptions<TrainingJobOptions>().BindConfiguration(TrainingJobOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<TrainingJobRows>();
        services.AddSingleton<ObjectaLabs.Orleans.Models.FineTunedModelRows>();
        services.AddOptions<UsageOptions>().BindConfiguration(UsageOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<UsageRollups>();
        services.AddSingleton<OrganizationModels>();
        services.AddSingleton<UsageBuffer>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<UsageBuffer>());
    }

    public static string RequireConnectionString(IConfiguration configuration) =>
        configuration.GetConnectionString(ConnectionStringName) is { Length: > 0 } cs
            ? cs
            : throw new InvalidOperationException(
                $"No PostgreSQL connection string: set ConnectionStrings__{ConnectionStringName} (./run sets it for the private local database).");
}
