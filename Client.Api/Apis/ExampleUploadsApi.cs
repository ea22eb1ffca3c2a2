using Microsoft.AspNetCore.Http.Features;
using ObjectaLabs.Orleans.Api.Security;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Uploads;

namespace ObjectaLabs.Orleans.Api.Apis;

public static class ExampleUploadsApi
{
    /// <summary>The largest JSONL upload accepted (<c>Api:MaxUploadBytes</c>); the file is streamed, never held whole.</summary>
    public const long DefaultMaxUploadBytes = 512L * 1024 * 1024;

    public static IEndpointRouteBuilder MapExampleUploadsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/organizations/{orgId:guid}/examples/uploads").WithTags("Training examples")
            .RequireOrganizationScope(ApiKeyScope.Admin);
        group.MapPost("/", Upload)
            .Accepts<Stream>("application/jsonl", "application/x-ndjson", "text/plain")
            .WithSummary("Uploads a JSONL file (one example per line). All-or-nothing by default (mode=storeValid stores the valid lines); "
                + "the answer reports every bad line with its line number, JSON path and reason. dryRun=true only checks and counts tokens.");
        return app;
    }

    public static async Task<Results<Ok<UploadReport>, ProblemHttpResult>> Upload(
        Guid orgId, HttpContext http, IGrainFactory grains, IConfiguration configuration,
        string? mode, string? baseModel, Guid? agentId, string? tags, bool? dryRun)
    {
        var options = new UploadOptions(
            QueryEnums.Parse(mode, "mode", UploadMode.AllOrNothing),
            string.IsNullOrWhiteSpace(baseModel) ? new UploadOptions().BaseModel : baseModel,
            agentId,
            tags?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            dryRun ?? false);
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = configuration.GetValue<long?>("Api:MaxUploadBytes") ?? DefaultMaxUploadBytes;
        }
        var upload = grains.GetGrain<IExampleUploadGrain>(Guid.CreateVersion7(), orgId.ToString());
        await upload.StartAsync(options);
        try
        {
            await foreach (var chunk in JsonlChunker.ReadAsync(http.Request.Body, cancellationToken: http.RequestAborted))
            {
                await upload.AppendAsync(chunk);
            }
        }
        catch
        {
            await upload.AbortAsync();
            throw;
        }
        var report = await upload.CompleteAsync();
        if (!report.Stored && !options.DryRun)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Upload refused: invalid lines",
                detail: report.Summary, extensions: new Dictionary<string, object?>
                {
                    ["uploadId"] = report.UploadId,
                    ["lines"] = report.Lines,
                    ["invalidLines"] = report.InvalidLines,
                    ["issues"] = report.Issues,
                    ["issuesTruncated"] = report.IssuesTruncated,
                });
        }
        return TypedResults.Ok(report);
    }
}
