using System.Text;
using ObjectaLabs.Orleans.Api.Security;
using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Quality;

namespace ObjectaLabs.Orleans.Api.Apis;

/// <summary>What is computed over an organization's examples as a whole: quality report, redaction, split and export.</summary>
public static class TrainingDataApi
{
    public static IEndpointRouteBuilder MapTrainingDataApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/organizations/{orgId:guid}/examples").WithTags("Training data")
            .RequireOrganizationScope(ApiKeyScope.Admin);
        group.MapGet("/quality", GetQualityReport).WithSummary("Token statistics for a target base model, duplicates, personal data and best-practice verdicts.");
        group.MapPost("/redactions", RedactPersonalData).WithSummary("Replaces suspected personal data with [EMAIL], [PHONE], [CARD]; changed examples lose their validation.");
        group.MapGet("/split", GetSplit).WithSummary("Sizes of the deterministic train/validation split of the validated examples.");
        group.MapGet("/export", Export).WithSummary("Validated examples as JSONL, streamed; optionally one agent's and one part of a seeded split. Nothing to export is a 422 saying why.")
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        return app;
    }

    /// <summary>Which examples to redact.</summary>
    public sealed record RedactRequest(Guid? AgentId, bool? ValidatedOnly);

    public static async Task<Ok<QualityReport>> GetQualityReport(Guid orgId, IGrainFactory grains, string? baseModel, Guid? agentId, bool? validatedOnly) =>
        TypedResults.Ok(await grains.GetGrain<ITrainingExamplesGrain>(orgId).GetQualityReportAsync(new QualityRequest(
            string.IsNullOrWhiteSpace(baseModel) ? throw ProblemException.Invalid("baseModel", "'baseModel' is required: a catalog id such as openai/gpt-4o-mini-2024-07-18.") : baseModel,
            agentId, validatedOnly ?? false)));

    public static async Task<Ok<RedactionResult>> RedactPersonalData(Guid orgId, RedactRequest request, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<ITrainingExamplesGrain>(orgId).RedactPersonalDataAsync(
            new QualityRequest("", request.AgentId, request.ValidatedOnly ?? false)));

    public static async Task<Ok<SplitSummary>> GetSplit(Guid orgId, IGrainFactory grains, int? seed, double? validationRatio, Guid? agentId) =>
        TypedResults.Ok(await grains.GetGrain<ITrainingExamplesGrain>(orgId).GetSplitAsync(agentId, Split(seed, validationRatio)));

    public static async Task<Results<PushStreamHttpResult, ProblemHttpResult>> Export(Guid orgId, IGrainFactory grains, Guid? agentId, int? seed, double? validationRatio, string? part)
    {
        SplitOptions? split = seed is null && validationRatio is null ? null : Split(seed, validationRatio);
        SplitPart? which = part is null ? null : QueryEnums.Parse(part, "part", SplitPart.Train);
        if (which is not null && split is null)
        {
            throw ProblemException.Invalid("part", "Choosing a part needs a split: give 'seed' and 'validationRatio'.");
        }
        var examples = grains.GetGrain<ITrainingExamplesGrain>(orgId);
        var lines = examples.ExportAsync(new ExportRequest(agentId, split, which)).GetAsyncEnumerator();
        if (!await lines.MoveNextAsync())
        {
            await lines.DisposeAsync();
            return await NothingToExportAsync(examples, agentId, which);
        }
        return TypedResults.Stream(async body =>
        {
            await using var rest = lines;
            var newline = "\n"u8.ToArray();
            do
            {
                await body.WriteAsync(Encoding.UTF8.GetBytes(rest.Current));
                await body.WriteAsync(newline);
            }
            while (await rest.MoveNextAsync());
        }, contentType: "application/jsonl", fileDownloadName: which is null ? "examples.jsonl" : $"examples.{which.Value.ToString().ToLowerInvariant()}.jsonl");
    }

    /// <summary>An export that would be empty says why instead of answering an empty file.</summary>
    private static async Task<ProblemHttpResult> NothingToExportAsync(ITrainingExamplesGrain examples, Guid? agentId, SplitPart? part)
    {
        var counts = (await examples.ListAsync(new ExampleListRequest(
            new ExampleFilter(ValidationFilter.All, agentId, null, null, null), ExampleSort.Date, null, 1))).Counts;
        var scope = agentId is null ? "The organization" : $"Agent {agentId}";
        var detail = counts.Validated == 0
            ? $"{scope} has no validated examples ({counts.Pending} pending validation); only validated examples are exported."
            : $"The {part?.ToString().ToLowerInvariant()} part of this split is empty: {counts.Validated} validated examples all fall in the other part. Change 'validationRatio' or 'seed'.";
        return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Nothing to export", detail: detail,
            extensions: new Dictionary<string, object?> { ["validated"] = counts.Validated, ["pending"] = counts.Pending });
    }

    private static SplitOptions Split(int? seed, double? ratio) => new(
        seed ?? throw ProblemException.Invalid("seed", "'seed' is required for a split."),
        ratio ?? throw ProblemException.Invalid("validationRatio", "'validationRatio' is required for a split (0 to 0.5)."));
}
