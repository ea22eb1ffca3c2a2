using ObjectaLabs.Orleans.Api.Resolution;
using ObjectaLabs.Orleans.Api.Security;
using ObjectaLabs.Orleans.Deployment;
using ObjectaLabs.Orleans.FewShot;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Api.FewShot;

/// <summary>
/// Few-shot prompting: an agent's template (admin key), its preview and evaluation (admin key), and resolution with the
/// examples chosen for the user's message (runtime key), so the runtime calls the model with the assembled prompt.
/// </summary>
public static class FewShotApi
{
    public const int MaxMessageLength = 32_000;
    public const int DefaultK = 3;
    public const int DefaultTokenBudget = 1_000;
    public const int DefaultHoldOut = 100;
    public const int DefaultEvaluationK = 5;

    public static IEndpointRouteBuilder MapFewShotApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/v1/organizations/{orgId:guid}").WithTags("Few-shot").RequireOrganizationScope(ApiKeyScope.Admin);
        var template = admin.MapGroup("/agents/{agentId:guid}/few-shot");
        template.MapGet("/", Get).WithSummary("The agent's few-shot template.");
        template.MapPut("/", Set).WithSummary($"Sets the agent's few-shot template: mode (lexical: the validated examples most relevant to the user's message, the agent's own or else the organization's; fixed: exampleIds in order), format (chat: each example as its turns; text: through examplePattern with {{question}} and {{answer}}, then suffix with {{input}}), prefix (the system instructions), k (1-{FewShotTemplate.MaxK}, default {DefaultK}), tokenBudget (the most tokens the examples take, counted with the resolved model's tokenizer; default {DefaultTokenBudget:N0}) and applyTo (baseModels, the default, or allModels). Takes effect in every API process within a second.");
        template.MapDelete("/", Remove).WithSummary("Removes the agent's few-shot template: resolution returns no examples.");
        template.MapPost("/preview", Preview).WithSummary("Which examples the template would choose for a message, with their scores and tokens, and the assembled prompt with its token count (the tokenizer of the given model, else of the model the agent resolves to).");
        admin.MapPost("/few-shot/evaluations", Evaluate).WithSummary($"Held-out evaluation of selection over the organization's (or one agent's) validated, tagged examples: each held-out example's question selects k from the rest; recall@k is how often the selection holds an example sharing a tag, beside a random selection's, with the mean tokens the examples add. holdOut 1-{FewShotEvaluationRequest.MaxHoldOut} (default {DefaultHoldOut}), k default {DefaultEvaluationK}.");

        app.MapGroup("/v1/organizations/{orgId:guid}/agents/{agentId:guid}").WithTags("Resolution")
            .RequireOrganizationScope(ApiKeyScope.Runtime)
            .MapPost("/resolve", ResolveWithExamples)
            .WithSummary("Resolution (as GET …/resolve) plus, when the agent has a few-shot template that applies to the resolved model, the examples chosen for 'message' and the assembled prompt. include: model (no selection), examples (the chosen examples with their turns), or messages (default: the assembled messages and, for the text format, the prompt). Runtime or admin key.");
        return app;
    }

    /// <summary>A template as sent; omitted fields take their defaults (lexical, chat, k 3, budget 1,000, base models only).</summary>
    public sealed record FewShotTemplateBody(
        FewShotMode? Mode,
        FewShotFormat? Format,
        string? Prefix,
        string? ExamplePattern,
        string? Suffix,
        int? K,
        int? TokenBudget,
        IReadOnlyList<Guid>? ExampleIds,
        FewShotApplyTo? ApplyTo);

    /// <summary>A preview: the user's message; optionally the model whose tokenizer counts (else the agent's resolved model) and a subject (for an experiment's arm).</summary>
    public sealed record PreviewBody(string? Message, Deployment.DeploymentsApi.ModelChoiceRequest? Model, string? Subject);

    public sealed record EvaluationBody(Guid? AgentId, int? HoldOut, int? K, int? Seed);

    /// <summary>What the runtime includes: the model only, the chosen examples, or the assembled messages.</summary>
    public enum FewShotInclude
    {
        Messages = 0,
        Examples = 1,
        Model = 2,
    }

    public sealed record ResolveBody(string? Subject, string? Message, FewShotInclude? Include);

    /// <summary>
    /// Resolution with its few-shot part: <c>fewShot</c> when the agent's template applies to the resolved model (else
    /// null, and <c>fewShotNote</c> says why).
    /// </summary>
    public sealed record ResolvedPrompt(ResolvedModel Resolution, FewShotSelection? FewShot, string? FewShotNote);

    public static async Task<Ok<FewShotTemplate>> Get(Guid orgId, Guid agentId, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<IDeploymentsGrain>(orgId).GetFewShotAsync(agentId));

    public static async Task<Ok<FewShotTemplate>> Set(Guid orgId, Guid agentId, FewShotTemplateBody body, IGrainFactory grains, ResolutionCache cache)
    {
        var format = body.Format ?? FewShotFormat.Chat;
        var text = format == FewShotFormat.Text;
        var template = new FewShotTemplate(
            body.Mode ?? FewShotMode.Lexical,
            format,
            body.Prefix ?? "",
            body.ExamplePattern ?? (text ? FewShotTemplate.DefaultExamplePattern : ""),
            body.Suffix ?? (text ? FewShotTemplate.DefaultSuffix : ""),
            body.K ?? DefaultK,
            body.TokenBudget ?? DefaultTokenBudget,
            body.ExampleIds ?? [],
            body.ApplyTo ?? FewShotApplyTo.BaseModels,
            default);
        var stored = await grains.GetGrain<IDeploymentsGrain>(orgId).SetFewShotAsync(agentId, template);
        await cache.RefreshIfHeldAsync(orgId);
        return TypedResults.Ok(stored);
    }

    public static async Task<NoContent> Remove(Guid orgId, Guid agentId, IGrainFactory grains, ResolutionCache cache)
    {
        await grains.GetGrain<IDeploymentsGrain>(orgId).RemoveFewShotAsync(agentId);
        await cache.RefreshIfHeldAsync(orgId);
        return TypedResults.NoContent();
    }

    public static async Task<Ok<FewShotSelection>> Preview(Guid orgId, Guid agentId, PreviewBody body, IGrainFactory grains, ResolutionCache cache, TimeProvider clock)
    {
        var message = Message(body.Message);
        var snapshot = await cache.GetAsync(orgId);
        var template = snapshot.FewShot?.GetValueOrDefault(agentId) ?? await grains.GetGrain<IDeploymentsGrain>(orgId).GetFewShotAsync(agentId);
        string? baseModel;
        if (body.Model is { } model)
        {
            if ((model.ModelId is null) == string.IsNullOrWhiteSpace(model.BaseModel))
            {
                throw ProblemException.Invalid("model", "'model' names exactly one of 'modelId' (a fine-tuned model) or 'baseModel' (a catalog model).");
            }
            baseModel = model.ModelId is { } id
                ? snapshot.FineTuned.GetValueOrDefault(id)?.BaseModel ?? throw ProblemException.Invalid("model.modelId", $"Model {id} is not one this organization's deployments name.")
                : model.BaseModel!.Trim();
        }
        else
        {
            baseModel = BaseModelOf(snapshot, Resolver.Resolve(snapshot, agentId, Subject(body.Subject) ?? "preview", clock.GetUtcNow()));
        }
        return TypedResults.Ok(await grains.GetGrain<IExampleIndexGrain>(orgId).SelectAsync(new FewShotRequest(agentId, message, template, baseModel)));
    }

    public static async Task<Ok<FewShotEvaluation>> Evaluate(Guid orgId, EvaluationBody body, IGrainFactory grains)
    {
        var holdOut = body.HoldOut ?? DefaultHoldOut;
        if (holdOut is < 1 or > FewShotEvaluationRequest.MaxHoldOut)
        {
            throw ProblemException.Invalid("holdOut", $"'holdOut' (examples held out as queries) is from 1 to {FewShotEvaluationRequest.MaxHoldOut:N0}.");
        }
        var k = body.K ?? DefaultEvaluationK;
        if (k is < 1 or > FewShotTemplate.MaxK)
        {
            throw ProblemException.Invalid("k", $"'k' is from 1 to {FewShotTemplate.MaxK}.");
        }
        if (body.AgentId is { } agentId)
        {
            await grains.GetGrain<IOrganizationGrain>(orgId).GetAgentAsync(agentId);
        }
        return TypedResults.Ok(await grains.GetGrain<IExampleIndexGrain>(orgId).EvaluateAsync(new FewShotEvaluationRequest(body.AgentId, holdOut, k, body.Seed ?? 1)));
    }

    public static async Task<Ok<ResolvedPrompt>> ResolveWithExamples(Guid orgId, Guid agentId, ResolveBody body, FewShotSelections selections, ResolutionCache cache, TimeProvider clock)
    {
        var include = body.Include ?? FewShotInclude.Messages;
        if (!Enum.IsDefined(include))
        {
            throw ProblemException.Invalid("include", "'include' is model, examples or messages.");
        }
        var message = include == FewShotInclude.Model ? null : Message(body.Message);
        var snapshot = await cache.GetAsync(orgId);
        var resolved = Resolver.Resolve(snapshot, agentId, Subject(body.Subject), clock.GetUtcNow());
        if (message is null)
        {
            return TypedResults.Ok(new ResolvedPrompt(resolved, null, "include=model: no examples selected."));
        }
        if (snapshot.FewShot?.GetValueOrDefault(agentId) is not { } template)
        {
            return TypedResults.Ok(new ResolvedPrompt(resolved, null, "The agent has no few-shot template."));
        }
        if (template.ApplyTo == FewShotApplyTo.BaseModels && resolved.ModelId is not null)
        {
            return TypedResults.Ok(new ResolvedPrompt(resolved, null, "The resolved model is fine-tuned and the agent's template applies to base models only."));
        }
        var selection = await selections.SelectAsync(orgId, new FewShotRequest(agentId, message, template, BaseModelOf(snapshot, resolved),
            WithExampleTurns: include == FewShotInclude.Examples, WithMessages: include == FewShotInclude.Messages));
        return TypedResults.Ok(new ResolvedPrompt(resolved, selection, null));
    }

    /// <summary>The catalog base model whose tokenizer counts for a resolved model.</summary>
    private static string? BaseModelOf(ResolutionSnapshot snapshot, ResolvedModel resolved) =>
        resolved.ModelId is { } id ? snapshot.FineTuned.GetValueOrDefault(id)?.BaseModel : resolved.Name;

    private static string Message(string? message)
    {
        if (string.IsNullOrWhiteSpace(message))
        {
            throw ProblemException.Invalid("message", "'message' (the user's current message) is required to choose examples.");
        }
        if (message.Length > MaxMessageLength)
        {
            throw ProblemException.Invalid("message", $"'message' is at most {MaxMessageLength:N0} characters.");
        }
        return message;
    }

    /// <summary>An empty subject is none, as on <c>GET …/resolve</c>; <see cref="Resolver"/> checks the rest.</summary>
    private static string? Subject(string? subject) => string.IsNullOrEmpty(subject) ? null : subject;
}
