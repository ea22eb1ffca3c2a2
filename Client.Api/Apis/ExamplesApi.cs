using System.Security.Claims;
using System.Text.Json;
using ObjectaLabs.Orleans.Api.Security;
using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Api.Apis;

public static class ExamplesApi
{
    public static IEndpointRouteBuilder MapExamplesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/organizations/{orgId:guid}/examples").WithTags("Training examples")
            .RequireOrganizationScope(ApiKeyScope.Admin);
        group.MapGet("/", ListExamples).WithSummary("Examples with filters (validation, agentId, source, tag, q), sort (date, quality, source), a cursor and the validated/pending counts.");
        group.MapPost("/", CreateExample).WithSummary("Adds an example in the OpenAI chat fine-tuning format; refused with the JSON path at fault.");
        group.MapGet("/{exampleId:guid}", GetExample).WithSummary("One example.");
        group.MapPatch("/{exampleId:guid}", UpdateExample).WithSummary("Edits an example; changing its content clears its validation.");
        group.MapDelete("/{exampleId:guid}", DeleteExample).WithSummary("Deletes an example.");
        group.MapPost("/{exampleId:guid}/validation", ValidateExample).WithSummary("Marks an example validated with a quality score in [0, 1].");
        group.MapPost("/validation", ValidateExamples).WithSummary("Marks many examples validated at once.");
        return app;
    }

    /// <summary>A new example: <c>example</c> is one JSON object with <c>messages</c> (and optionally <c>tools</c>, <c>parallel_tool_calls</c>).</summary>
    public sealed record CreateExampleRequest(JsonElement? Example, Guid? AgentId, IReadOnlyList<string>? Tags, string? Notes);

    /// <summary>New values; absent fields are unchanged.</summary>
    public sealed record UpdateExampleRequest(JsonElement? Example, IReadOnlyList<string>? Tags, string? Notes);

    /// <summary>A validation; who validated is the calling key (recorded as <c>key:&lt;keyId&gt;</c>), never a value from the body.</summary>
    public sealed record ValidateRequest(decimal? QualityScore);

    /// <summary>Validates many examples; ids this organization has no example for are answered in <c>notFound</c>.</summary>
    public sealed record BulkValidateRequest(IReadOnlyList<Guid>? Ids, decimal? QualityScore);

    public static async Task<Ok<ExamplePage>> ListExamples(Guid orgId, IGrainFactory grains,
        string? validation, Guid? agentId, string? source, string? tag, string? q, string? sort, string? cursor, int? limit)
    {
        var size = limit ?? 50;
        if (size is < 1 or > 200)
        {
            throw ProblemException.Invalid("limit", "'limit' must be between 1 and 200.");
        }
        var filter = new ExampleFilter(
            QueryEnums.Parse(validation, "validation", ValidationFilter.All),
            agentId,
            source is null ? null : QueryEnums.Parse(source, "source", ExampleSource.Manual),
            tag,
            q);
        return TypedResults.Ok(await grains.GetGrain<ITrainingExamplesGrain>(orgId).ListAsync(
            new ExampleListRequest(filter, QueryEnums.Parse(sort, "sort", ExampleSort.Date), cursor, size)));
    }

    public static async Task<Created<TrainingExample>> CreateExample(Guid orgId, CreateExampleRequest request, IGrainFactory grains)
    {
        var example = await grains.GetGrain<ITrainingExamplesGrain>(orgId).CreateAsync(
            new NewExample(RequireObject(request.Example), request.AgentId, request.Tags ?? [], request.Notes));
        return TypedResults.Created($"/v1/organizations/{orgId}/examples/{example.Id}", example);
    }

    public static async Task<Ok<TrainingExample>> GetExample(Guid orgId, Guid exampleId, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<ITrainingExamplesGrain>(orgId).GetAsync(exampleId));

    public static async Task<Ok<TrainingExample>> UpdateExample(Guid orgId, Guid exampleId, UpdateExampleRequest request, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<ITrainingExamplesGrain>(orgId).UpdateAsync(exampleId,
            new ExampleEdit(request.Example is null ? null : RequireObject(request.Example), request.Tags, request.Notes)));

    public static async Task<NoContent> DeleteExample(Guid orgId, Guid exampleId, IGrainFactory grains)
    {
        await grains.GetGrain<ITrainingExamplesGrain>(orgId).DeleteAsync(exampleId);
        return TypedResults.NoContent();
    }

    public static async Task<Ok<TrainingExample>> ValidateExample(Guid orgId, Guid exampleId, ValidateRequest request, IGrainFactory grains, ClaimsPrincipal user) =>
        TypedResults.Ok(await grains.GetGrain<ITrainingExamplesGrain>(orgId).ValidateAsync(exampleId,
            ValidatedBy(user), RequireScore(request.QualityScore)));

    public static async Task<Ok<BulkValidation>> ValidateExamples(Guid orgId, BulkValidateRequest request, IGrainFactory grains, ClaimsPrincipal user) =>
        TypedResults.Ok(await grains.GetGrain<ITrainingExamplesGrain>(orgId).BulkValidateAsync(
            request.Ids ?? throw ProblemException.Invalid("ids", "'ids' is required."),
            ValidatedBy(user), RequireScore(request.QualityScore)));

    private static string RequireObject(JsonElement? example) =>
        example is { ValueKind: JsonValueKind.Object } e
            ? e.GetRawText()
            : throw ProblemException.Invalid("example", "'example' is required: a JSON object with 'messages' in the OpenAI chat fine-tuning format.");

    private static decimal RequireScore(decimal? score) =>
        score ?? throw ProblemException.Invalid("qualityScore", "'qualityScore' is required: a number between 0 and 1.");

    private static string ValidatedBy(ClaimsPrincipal user) => $"key:{user.FindFirst(ApiKeyAuthenticationHandler.KeyIdClaim)?.Value}";
}

/// <summary>Enum query parameters, matched case-insensitively by name; anything else is a problem naming the parameter.</summary>
internal static class QueryEnums
{
    public static T Parse<T>(string? value, string parameter, T fallback) where T : struct, Enum
    {
        if (string.IsNullOrEmpty(value))
        {
            return fallback;
        }
        return !value.Any(char.IsDigit) && Enum.TryParse<T>(value, ignoreCase: true, out var parsed)
            ? parsed
            : throw ProblemException.Invalid(parameter, $"'{parameter}' must be one of {string.Join(", ", Enum.GetNames<T>().Select(n => char.ToLowerInvariant(n[0]) + n[1..]))}.");
    }
}
