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
        group.MapGet("/export", Export).WithSummary("Validated examples as JSONL, streamed; optionally one agent's and one part of a seeded split.");
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

    public static PushStreamHttpResult Export(Guid orgId, IGrainFactory grains, Guid? agentId, int? seed, double? validationRatio, string? part)
    {
        SplitOptions? split = seed is null && validationRatio is null ? null : Split(seed, validationRatio);
        SplitPart? which = part is null ? null : QueryEnums.Parse(part, "part", SplitPart.Train);
        if (which is not null && split is null)
        {
            throw ProblemException.Invalid("part", "Choosing a part needs a split: give 'seed' and 'validationRatio'.");
        }
        var lines = grains.GetGrain<ITrainingExamplesGrain>(orgId).ExportAsync(new ExportRequest(agentId, split, which));
        return TypedResults.Stream(async body =>
        {
            var newline = "\n"u8.ToArray();
            await foreach (var line in lines)
            {
                await body.WriteAsync(Encoding.UTF8.GetBytes(line));
                await body.WriteAsync(newline);
            }
        }, contentType: "application/jsonl", fileDownloadName: which is null ? "examples.jsonl" : $"examples.{which.Value.ToString().ToLowerInvariant()}.jsonl");
    }

    private static SplitOptions Split(int? seed, double? ratio) => new(
        seed ?? throw ProblemException.Invalid("seed", "'seed' is required for a split."),
        ratio ?? throw ProblemException.Invalid("validationRatio", "'validationRatio' is required for a split (0 to 0.5)."));
}
