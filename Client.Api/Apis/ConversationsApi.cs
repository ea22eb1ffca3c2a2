using System.Text.Json;
using ObjectaLabs.Orleans.Api.Security;
using ObjectaLabs.Orleans.Conversations;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Api.Apis;

public static class ConversationsApi
{
    public static IEndpointRouteBuilder MapConversationsApi(this IEndpointRouteBuilder app)
    {
        var runtime = app.MapGroup("/v1/organizations/{orgId:guid}/conversations").WithTags("Conversations")
            .RequireOrganizationScope(ApiKeyScope.Runtime);
        runtime.MapPost("/", RecordConversation).WithSummary("The agent runtime reports a finished conversation (runtime or admin key); an externalId makes it idempotent.");

        var admin = app.MapGroup("/v1/organizations/{orgId:guid}/conversations").WithTags("Conversations")
            .RequireOrganizationScope(ApiKeyScope.Admin);
        admin.MapPost("/imports", ImportConversations).WithSummary("Turns matching conversations (agent, minimum rating, date range) into training examples; importing again creates no duplicates.");
        return app;
    }

    /// <summary>
    /// One message; <c>tool_calls</c> is the assistant's tool_calls array as the runtime saw it. The OpenAI names
    /// (<c>tool_calls</c>, <c>tool_call_id</c>) and their camel-case spellings are both accepted, one of each pair.
    /// </summary>
    public sealed record MessageRequest(
        string? Role,
        string? Content,
        string? Name,
        JsonElement? ToolCalls,
        string? ToolCallId,
        [property: System.Text.Json.Serialization.JsonPropertyName("tool_calls")] JsonElement? OpenAiToolCalls = null,
        [property: System.Text.Json.Serialization.JsonPropertyName("tool_call_id")] string? OpenAiToolCallId = null);

    public sealed record RecordConversationRequest(
        Guid? AgentId,
        IReadOnlyList<MessageRequest>? Messages,
        int? Rating,
        Dictionary<string, string>? Metadata,
        DateTimeOffset? StartedAt,
        DateTimeOffset? EndedAt,
        string? ExternalId);

    public sealed record ImportRequest(Guid? AgentId, int? MinRating, DateTimeOffset? EndedFrom, DateTimeOffset? EndedTo, bool? AdjacentPairs, IReadOnlyList<string>? Tags);

    public static async Task<Results<Created<ConversationRecorded>, Ok<ConversationRecorded>>> RecordConversation(Guid orgId, RecordConversationRequest request, IGrainFactory grains)
    {
        var messages = (request.Messages ?? throw ProblemException.Invalid("messages", "'messages' is required."))
            .Select((m, i) => ToMessage(m ?? throw ProblemException.Invalid($"messages[{i}]", "A message must be an object."), i))
            .ToList();
        var recorded = await grains.GetGrain<IConversationsGrain>(orgId).RecordAsync(new NewConversation(
            request.AgentId ?? throw ProblemException.Invalid("agentId", "'agentId' is required."),
            messages, request.Rating, request.Metadata, request.StartedAt,
            request.EndedAt ?? throw ProblemException.Invalid("endedAt", "'endedAt' is required."),
            request.ExternalId));
        return recorded.Created
            ? TypedResults.Created($"/v1/organizations/{orgId}/conversations/{recorded.Id}", recorded)
            : TypedResults.Ok(recorded);
    }

    private static ConversationMessage ToMessage(MessageRequest m, int i)
    {
        var toolCalls = OneOf(m.OpenAiToolCalls, m.ToolCalls, i, "tool_calls", "toolCalls");
        var toolCallId = OneOf(m.OpenAiToolCallId, m.ToolCallId, i, "tool_call_id", "toolCallId");
        return new ConversationMessage(
            m.Role ?? throw ProblemException.Invalid($"messages[{i}].role", "'role' is required."),
            m.Content, m.Name,
            toolCalls is { ValueKind: JsonValueKind.Array } calls ? calls.GetRawText()
                : toolCalls is null or { ValueKind: JsonValueKind.Null } ? null
                : throw ProblemException.Invalid($"messages[{i}].tool_calls", "'tool_calls' must be a list."),
            toolCallId);
    }

    private static T? OneOf<T>(T? openAi, T? camel, int i, string openAiName, string camelName) =>
        openAi is not null && camel is not null
            ? throw ProblemException.Invalid($"messages[{i}].{openAiName}", $"Send '{openAiName}' or '{camelName}', not both.")
            : openAi ?? camel;

    public static async Task<Ok<ConversationImportReport>> ImportConversations(Guid orgId, ImportRequest request, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<IConversationsGrain>(orgId).ImportAsync(new ConversationImportRequest(
            request.AgentId, request.MinRating, request.EndedFrom, request.EndedTo, request.AdjacentPairs ?? false, request.Tags)));
}
