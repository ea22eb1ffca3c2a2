using System.Text;
using System.Text.Json;

namespace ObjectaLabs.Orleans.Conversations;

/// <summary>
/// What a conversation counts against its plan's byte quota: the UTF-8 bytes of each message's content, name,
/// tool calls and tool call id, of its metadata as stored (JSON) and of its external id. The migration that
/// introduced the quota counted stored conversations the same way.
/// </summary>
public static class ConversationSize
{
    public static long Of(NewConversation c)
    {
        long bytes = Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(c.Metadata ?? new Dictionary<string, string>()))
            + Utf8(c.ExternalId);
        foreach (var m in c.Messages)
        {
            bytes += Utf8(m.Content) + Utf8(m.Name) + Utf8(m.ToolCalls) + Utf8(m.ToolCallId);
        }
        return bytes;
    }

    private static long Utf8(string? text) => text is null ? 0 : Encoding.UTF8.GetByteCount(text);
}
