namespace ObjectaLabs.Orleans.Conversations;

/// <summary>An organization's finished conversations, keyed by organization id, and their import as training examples.</summary>
[Alias("objectalabs.IConversationsGrain")]
public interface IConversationsGrain : IGrainWithGuidKey
{
    /// <summary>Stores a finished conversation reported by the runtime.</summary>
    [Alias("record")]
    Task<ConversationRecorded> RecordAsync(NewConversation conversation);

    /// <summary>Turns the matching conversations into training examples, each linked to its conversation; idempotent.</summary>
    [Alias("import")]
    Task<ConversationImportReport> ImportAsync(ConversationImportRequest request);
}
