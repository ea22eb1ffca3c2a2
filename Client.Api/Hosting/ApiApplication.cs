using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using ObjectaLabs.Orleans.Api.Apis;
using ObjectaLabs.Orleans.Api.Deployment;
using ObjectaLabs.Orleans.Api.FewShot;
using ObjectaLabs.Orleans.Api.Problems;
using ObjectaLabs.Orleans.Api.Resolution;
using ObjectaLabs.Orleans.Api.Screens;
using ObjectaLabs.Orleans.Api.Security;
using ObjectaLabs.Orleans.Api.Usage;
using ObjectaLabs.Orleans.Hosting;
using Orleans.Configuration;
using Orleans.Dashboard;
using Scalar.AspNetCore;

namespace ObjectaLabs.Orleans.Api.Hosting;

/// <summary>Builds the API host; <c>Program</c> runs it and the tests start it on a free port.</summary>
public static class ApiApplication
{
    public const string ConnectionStringName = ClusterSettings.ConnectionStringName;

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder);
        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName) is { Length: > 0 } cs
            ? cs
            : throw new InvalidOperationException($"No PostgreSQL connection string: set ConnectionStrings__{ConnectionStringName}; the API finds the cluster's gateways there.");

        ConsoleLogs.Configure(builder.Logging, builder.Configuration);
        builder.Services.AddValidatedApiOptions();
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<ApiOptions>>((k, api) => k.Limits.MaxRequestBodySize = api.Value.MaxRequestBodyBytes);

        builder.UseOrleansClient(client =>
        {
            ClusterClient.Configure(client, builder.Configuration, connectionString);
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(10));
            client.UseConnectionRetryFilter<RetryForeverFilter>();
            client.AddDashboard();
        });

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddOptions<PlatformOptions>().BindConfiguration(PlatformOptions.Section);
        builder.Services.AddOptions<ObjectaLabs.Orleans.Uploads.UploadSettings>().BindConfiguration(ObjectaLabs.Orleans.Uploads.UploadSettings.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton(sp => PlatformAdminKey.Resolve(
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<PlatformOptions>>().Value,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("Platform")));
        builder.Services.AddSingleton<ApiKeyValidator>();
        builder.Services.AddSingleton<ResolutionCache>();
        builder.Services.AddSingleton<UsageSender>();
        builder.Services.AddSingleton<FewShotSelections>();
        builder.Services.AddSingleton<ResolveFastPathCounter>();
        builder.Services.AddSingleton<UsageFastPathCounter>();
        builder.Services.AddHostedService<ResolutionRenewal>();
        builder.Services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(OrganizationAccess.PlatformPolicy, p => p.RequireRole(ApiKeyAuthenticationHandler.PlatformAdminRole));

        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = c =>
        {
            c.ProblemDetails.Instance ??= $"{c.HttpContext.Request.Method} {c.HttpContext.Request.Path}";
            c.ProblemDetails.Extensions["traceId"] = Activity.Current?.Id ?? c.HttpContext.TraceIdentifier;
            if (c.ProblemDetails.Status == StatusCodes.Status415UnsupportedMediaType && c.ProblemDetails.Detail is null)
            {
                // The framework refuses a JSON route's other media types without saying which it takes.
                var sent = c.HttpContext.Request.ContentType;
                c.ProblemDetails.Detail = BindingMessages.UnsupportedMediaType(sent);
                c.ProblemDetails.Extensions["field"] = "content-type";
                c.ProblemDetails.Extensions["accepted"] = new[] { "application/json" };
            }
        });
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        // Body-binding failures throw, so the exception handler can name the JSON path and line.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.Configure<JsonOptions>(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
            o.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            // The web defaults read "4" as 4; a number is a number.
            o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            o.SerializerOptions.AnswerExamplesAsObjects();
        });
        builder.Services.AddApiKeyRateLimiting(builder.Configuration);
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer<OpenApiSecurity>());
        // Each readiness probe is shared by all callers (one at a time, reused for a second): a flood of /health/ready
        // costs at most one database connection and one grain call a second.
        builder.Services.AddSingleton(sp => new PostgresHealthCheck(connectionString));
        builder.Services.AddKeyedSingleton<IHealthCheck>("postgres", (sp, _) =>
            new SharedHealthCheck(sp.GetRequiredService<PostgresHealthCheck>(), sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddKeyedSingleton<IHealthCheck>("cluster", (sp, _) =>
            new SharedHealthCheck(ActivatorUtilities.CreateInstance<ClusterHealthCheck>(sp), sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddHealthChecks()
            .Add(new HealthCheckRegistration("postgres", sp => sp.GetRequiredKeyedService<IHealthCheck>("postgres"), null, ["ready"]))
            .Add(new HealthCheckRegistration("cluster", sp => sp.GetRequiredKeyedService<IHealthCheck>("cluster"), null, ["ready"]));

        var app = builder.Build();
        app.Lifetime.ApplicationStarted.Register(() => app.Logger.LogInformation("API listening on {Urls}", string.Join(", ", app.Urls)));
        // The runtime's hot path first: the plain case of resolution answered with the same checks and answer, anything
        // else passed on to the pipeline below (see ResolveFastPath).
        if (app.Configuration.GetValue("Api:ResolveFastPath", true))
        {
            app.UseResolveFastPath();
        }
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        // The runtime's usage reports: the plain case taken with the same checks, anything else passed on (see
        // UsageFastPath). Inside the exception handler, so what the cluster answers is answered as the endpoint would.
        if (app.Configuration.GetValue("Api:UsageFastPath", true))
        {
            app.UseUsageFastPath();
        }
        // Static and public: before the key check and the per-address limit, which guard the API.
        app.UseAdminScreens();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.UseStorableRequestText();

        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") });
        app.MapOpenApi();
        app.MapScalarApiReference();
        // The dashboard is the operator's page, not part of the API: kept out of the OpenAPI document.
        app.MapOrleansDashboard("/dashboard").RequireAuthorization(OrganizationAccess.PlatformPolicy).ExcludeFromDescription();

        var api = app.MapGroup("").WithProblemResponses();
        api.MapPlansApi();
        api.MapOrganizationsApi();
        api.MapAgentsApi();
        api.MapApiKeysApi();
        api.MapBaseModelsApi();
        api.MapExamplesApi();
        api.MapExampleUploadsApi();
        api.MapTrainingDataApi();
        api.MapConversationsApi();
        api.MapProviderKeysApi();
        api.MapTrainingJobsApi();
        api.MapModelsApi();
        api.MapDeploymentsApi();
        api.MapResolveApi();
        api.MapUsageApi();
        api.MapFewShotApi();
        return app;
    }
}
