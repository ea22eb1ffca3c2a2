using System.Security.Claims;
using ObjectaLabs.Orleans.Api.Security;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Training;

namespace ObjectaLabs.Orleans.Api.Apis;

/// <summary>Training jobs: estimate, create (once per id), follow, cancel; the organization's admin key.</summary>
public static class TrainingJobsApi
{
    public const int DefaultSeed = 42;
    public const double DefaultValidationRatio = 0.1;

    public static IEndpointRouteBuilder MapTrainingJobsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/organizations/{orgId:guid}/training-jobs").WithTags("Training jobs")
            .RequireOrganizationScope(ApiKeyScope.Admin);
        group.MapPost("/estimate", Estimate).WithSummary("Billable tokens and cost of a would-be job on today's validated examples, and (with 'projection') the monthly saving against the base model and few-shot prompting.");
        group.MapPost("/", Create).WithSummary("Freezes the validated examples, splits them and starts training; a repeated create with the same 'id' answers the same job.");
        group.MapGet("/", List).WithSummary("The organization's jobs, newest first, with a status filter and a cursor.");
        group.MapGet("/{jobId:guid}", Get).WithSummary("One job: status, progress, ETA, examples, losses, estimated and actual cost, the registered model.");
        group.MapGet("/{jobId:guid}/events", Events).WithSummary("The provider's events, oldest first, paged by 'after'.");
        group.MapGet("/{jobId:guid}/checkpoints", Checkpoints).WithSummary("The checkpoints the provider kept.");
        group.MapPost("/{jobId:guid}/cancel", Cancel).WithSummary("Asks the provider to stop the job; the job is followed until it is cancelled.");
        return app;
    }

    /// <summary>Hyperparameters; each absent one is the provider's <c>auto</c>.</summary>
    public sealed record HyperparametersRequest(int? Epochs, int? BatchSize, double? LearningRateMultiplier, int? Evaluations);

    /// <summary>The traffic to project the saving for: requests a month and their average tokens; few-shot examples per prompt.</summary>
    public sealed record ProjectionRequest(long? MonthlyRequests, decimal? AverageInputTokens, decimal? AverageOutputTokens, int? FewShotExamples);

    /// <summary>
    /// <c>providerQuote</c>: also ask the provider for its own price (Together: uploads the would-be training file,
    /// which the job then reuses; off by default, since it sends the data to the provider before anything is trained).
    /// </summary>
    public sealed record EstimateRequest(
        string? BaseModel, Guid? AgentId, double? ValidationRatio, int? Seed, HyperparametersRequest? Hyperparameters, ProjectionRequest? Projection,
        bool? ProviderQuote);

    /// <summary>A new job. <c>id</c> (optional) makes the create idempotent: the same id answers the same job.</summary>
    public sealed record CreateJobRequest(
        Guid? Id, string? Name, string? BaseModel, Guid? AgentId, string? Suffix, double? ValidationRatio, int? Seed, HyperparametersRequest? Hyperparameters);

    public static async Task<Ok<TrainingEstimate>> Estimate(Guid orgId, EstimateRequest request, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<ITrainingJobsGrain>(orgId).EstimateAsync(new TrainingEstimateRequest(
            request.BaseModel ?? throw ProblemException.Invalid("baseModel", "'baseModel' is required: a fine-tunable model of GET /v1/base-models."),
            request.AgentId,
            request.ValidationRatio ?? DefaultValidationRatio,
            request.Seed ?? DefaultSeed,
            Hyperparameters(request.Hyperparameters),
            Projection(request.Projection),
            request.ProviderQuote ?? false)));

    public static async Task<Created<TrainingJobInfo>> Create(Guid orgId, CreateJobRequest request, IGrainFactory grains, ClaimsPrincipal user)
    {
        var id = request.Id ?? Guid.CreateVersion7();
        if (id == Guid.Empty)
        {
            throw ProblemException.Invalid("id", "'id' must not be the empty UUID.");
        }
        var job = await grains.GetGrain<ITrainingJobsGrain>(orgId).CreateAsync(id, new NewTrainingJob(
            request.Name ?? throw ProblemException.Invalid("name", "'name' is required: the model line's name, e.g. \"Customer Support Model\"."),
            request.BaseModel ?? throw ProblemException.Invalid("baseModel", "'baseModel' is required: a fine-tunable model of GET /v1/base-models."),
            request.AgentId,
            request.Suffix,
            request.ValidationRatio ?? DefaultValidationRatio,
            request.Seed ?? DefaultSeed,
            Hyperparameters(request.Hyperparameters),
            $"key:{user.FindFirst(ApiKeyAuthenticationHandler.KeyIdClaim)?.Value}"));
        return TypedResults.Created($"/v1/organizations/{orgId}/training-jobs/{job.Id}", job);
    }

    public static async Task<Ok<TrainingJobPage>> List(Guid orgId, IGrainFactory grains, string? status, string? cursor, int? limit)
    {
        var size = limit ?? 20;
        if (size is < 1 or > 100)
        {
            throw ProblemException.Invalid("limit", "'limit' must be between 1 and 100.");
        }
        TrainingJobStatus? filter = status is null ? null
            : TrainingJobStatuses.Parse(status) ?? throw ProblemException.Invalid("status",
                $"'status' must be one of {string.Join(", ", Enum.GetValues<TrainingJobStatus>().Select(s => s.Name()))}.");
        return TypedResults.Ok(await grains.GetGrain<ITrainingJobsGrain>(orgId).ListAsync(new TrainingJobListRequest(filter, cursor, size)));
    }

    public static async Task<Ok<TrainingJobInfo>> Get(Guid orgId, Guid jobId, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<ITrainingJobGrain>(jobId).GetAsync(orgId));

    public static async Task<Ok<TrainingJobEventPage>> Events(Guid orgId, Guid jobId, IGrainFactory grains, long? after, int? limit) =>
        TypedResults.Ok(await grains.GetGrain<ITrainingJobGrain>(jobId).ListEventsAsync(orgId, after, limit ?? 50));

    public static async Task<Ok<IReadOnlyList<TrainingCheckpoint>>> Checkpoints(Guid orgId, Guid jobId, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<ITrainingJobGrain>(jobId).ListCheckpointsAsync(orgId));

    public static async Task<Ok<TrainingJobInfo>> Cancel(Guid orgId, Guid jobId, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<ITrainingJobGrain>(jobId).CancelAsync(orgId));

    private static JobHyperparameters Hyperparameters(HyperparametersRequest? h) =>
        new(h?.Epochs, h?.BatchSize, h?.LearningRateMultiplier, h?.Evaluations);

    private static ProjectionInput? Projection(ProjectionRequest? p)
    {
        if (p is null)
        {
            return null;
        }
        if (p.MonthlyRequests is not { } requests || requests is < 0 or > 100_000_000_000)
        {
            throw ProblemException.Invalid("projection.monthlyRequests", "'monthlyRequests' is required: requests a month, 0 to 100 billion.");
        }
        if (p.AverageInputTokens is not { } input || input is < 0 or > 10_000_000)
        {
            throw ProblemException.Invalid("projection.averageInputTokens", "'averageInputTokens' is required: 0 to 10 million.");
        }
        if (p.AverageOutputTokens is not { } output || output is < 0 or > 10_000_000)
        {
            throw ProblemException.Invalid("projection.averageOutputTokens", "'averageOutputTokens' is required: 0 to 10 million.");
        }
        if (p.FewShotExamples is < 0 or > 1000)
        {
            throw ProblemException.Invalid("projection.fewShotExamples", "'fewShotExamples' must be between 0 and 1000.");
        }
        return new ProjectionInput(requests, input, output, p.FewShotExamples ?? 3, 0);
    }
}
