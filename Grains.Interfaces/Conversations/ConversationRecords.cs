using ObjectaLabs.Orleans.Examples;

namespace ObjectaLabs.Orleans.Conversations;

/// <summary>One message of a finished conversation; <see cref="ToolCalls"/> is the assistant's tool_calls array as JSON.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.conversation-message")]
public sealed record class ConversationMessage(string Role, string? Content, string? Name = null, string? ToolCalls = null, string? ToolCallId = null);

/// <summary>
/// A finished conversation as the agent runtime reports it. <see cref="ExternalId"/>, when given,
/// makes reporting idempotent: the same id is recorded once.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.new-conversation")]
public sealed record class NewConversation(
    Guid AgentId,
    IReadOnlyList<ConversationMessage> Messages,
    int? Rating,
    IReadOnlyDictionary<string, string>? Metadata,
    DateTimeOffset? StartedAt,
    DateTimeOffset EndedAt,
    string? ExternalId = null);

[GenerateSerializer, Immutable, Alias("objectalabs.conversation-recorded")]
public sealed record class ConversationRecorded(Guid Id, bool Created);

/// <summary>
/// Which conversations to import (the spec's filters) and how: whole multi-turn examples by default,
/// or one example per adjacent user → assistant pair.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.conversation-import")]
public sealed record class ConversationImportRequest(
    Guid? AgentId = null,
    int? MinRating = null,
    DateTimeOffset? EndedFrom = null,
    DateTimeOffset? EndedTo = null,
    bool AdjacentPairs = false,
    IReadOnlyList<string>? Tags = null);

/// <summary>What an import did; importing the same conversations again creates nothing new.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.conversation-import-report")]
public sealed record class ConversationImportReport(
    int Conversations,
    int Created,
    int AlreadyImported,
    int Skipped,
    IReadOnlyList<ExampleIssue> Issues);
