using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using ObjectaLabs.Orleans.Api.Security;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Uploads;

namespace ObjectaLabs.Orleans.Api.Apis;

public static class ExampleUploadsApi
{
    /// <summary>The largest JSONL upload accepted (<c>Api:MaxUploadBytes</c>); the file is streamed, never held whole.</summary>
    public const long DefaultMaxUploadBytes = 512L * 1024 * 1024;

    /// <summary>
    /// The JSONL media types accepted: <c>application/jsonl</c> (jsonlines.org), <c>application/x-ndjson</c>
    /// (ndjson) and <c>application/json-lines</c>, UTF-8 only. <c>text/plain</c> is refused: a cross-site
    /// HTML form can send it without a CORS preflight.
    /// </summary>
    public static readonly IReadOnlyList<string> MediaTypes = ["application/jsonl", "application/x-ndjson", "application/json-lines"];

    public static IEndpointRouteBuilder MapExampleUploadsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/organizations/{orgId:guid}/examples/uploads").WithTags("Training examples")
            .RequireOrganizationScope(ApiKeyScope.Admin);
        group.MapPost("/", Upload)
            .Accepts<Stream>(MediaTypes[0], [.. MediaTypes.Skip(1)])
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status408RequestTimeout)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Uploads a JSONL file (one example per line). All-or-nothing by default (mode=storeValid stores the valid lines); "
                + "the answer reports the first bad lines with their line number, JSON path and reason, and counts every issue by code. "
                + "dryRun=true answers exactly what the upload would (status, duplicates, issues) and stores nothing.");
        return app;
    }

    public static async Task<Results<Ok<UploadReport>, ProblemHttpResult>> Upload(
        Guid orgId, HttpContext http, IGrainFactory grains, IConfiguration configuration, IOptions<UploadSettings> uploadSettings,
        string? mode, string? baseModel, Guid? agentId, string? tags, bool? dryRun)
    {
        if (UnsupportedMediaType(http) is { } refused)
        {
            return refused;
        }
        var settings = uploadSettings.Value;
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
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        deadline.CancelAfter(settings.Deadline);
        try
        {
            await foreach (var chunk in JsonlChunker.ReadAsync(http.Request.Body, JsonlChunker.DefaultChunkBytes, settings.MaxLineBytes, deadline.Token))
            {
                await upload.AppendAsync(chunk);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !http.RequestAborted.IsCancellationRequested)
        {
            await upload.AbortAsync();
            return TypedResults.Problem(statusCode: StatusCodes.Status408RequestTimeout, title: "Upload too slow",
                detail: $"The upload did not finish within {settings.Deadline.TotalMinutes:0.#} minutes (Uploads:Deadline); nothing was stored. Send the file faster or split it.");
        }
        catch
        {
            // Disconnect, body too large, anything: the upload's transaction is rolled back now, not at its idle timeout.
            await upload.AbortAsync();
            throw;
        }
        var report = await upload.CompleteAsync();
        if (options.Mode == UploadMode.AllOrNothing && report.InvalidLines > 0)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Upload refused: invalid lines",
                detail: report.Summary, extensions: new Dictionary<string, object?>
                {
                    ["uploadId"] = report.UploadId,
                    ["dryRun"] = report.DryRun,
                    ["lines"] = report.Lines,
                    ["invalidLines"] = report.InvalidLines,
                    ["issues"] = report.Issues,
                    ["issuesTruncated"] = report.IssuesTruncated,
                    ["issueCounts"] = report.IssueCounts,
                });
        }
        return TypedResults.Ok(report);
    }

    /// <summary>A 415 naming the accepted media types unless the body is declared as UTF-8 JSONL.</summary>
    private static ProblemHttpResult? UnsupportedMediaType(HttpContext http)
    {
        if (MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var type)
            && MediaTypes.Contains(type.MediaType.Value ?? "", StringComparer.OrdinalIgnoreCase)
            && (type.Charset.Value is null || string.Equals(type.Charset.Value, "utf-8", StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }
        http.Response.Headers["Accept-Post"] = string.Join(", ", MediaTypes);
        return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
            detail: $"Send the file as one of {string.Join(", ", MediaTypes)} (UTF-8); got '{http.Request.ContentType ?? "no content type"}'. "
                + "text/plain is refused because a web page on another site could send it with a browser's credentials.",
            extensions: new Dictionary<string, object?> { ["field"] = "Content-Type", ["acceptedMediaTypes"] = MediaTypes });
    }
}
