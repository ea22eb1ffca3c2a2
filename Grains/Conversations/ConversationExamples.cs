using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using ObjectaLabs.Orleans.Examples;

namespace ObjectaLabs.Orleans.Conversations;

/// <summary>
/// Turns a conversation into training examples: the whole conversation as one multi-turn example
/// (part -1), or, as the spec's adjacent-pair extraction, one example per user message directly
/// answered by an assistant message (part = the user message's position), keeping a leading system message.
/// </summary>
public static class ConversationExamples
{
    public const int WholeConversation = -1;

    public static IEnumerable<(int Part, string Json)> From(StoredConversation conversation, bool adjacentPairs)
    {
        var messages = conversation.Messages;
        if (!adjacentPairs)
        {
            yield return (WholeConversation, ToJson(messages));
            yield break;
        }
        var system = messages.Count > 0 && messages[0].Role == "system" ? messages[0] : null;
        for (var i = 0; i + 1 < messages.Count; i++)
        {
            if (messages[i].Role == "user" && messages[i + 1].Role == "assistant" && messages[i + 1].ToolCalls is null)
            {
                List<ConversationMessage> pair = system is null ? [messages[i], messages[i + 1]] : [system, messages[i], messages[i + 1]];
                yield return (i, ToJson(pair));
            }
        }
    }

    private static string ToJson(IEnumerable<ConversationMessage> messages)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("messages");
            foreach (var m in messages)
            {
                writer.WriteStartObject();
                writer.WriteString("role", m.Role);
                if (m.Content is not null)
                {
                    writer.WriteString("content", m.Content);
                }
                if (m.Name is not null)
                {
                    writer.WriteString("name", m.Name);
                }
                if (m.ToolCalls is not null)
                {
                    writer.WritePropertyName("tool_calls");
                    writer.WriteRawValue(m.ToolCalls);
                }
                if (m.ToolCallId is not null)
                {
                    writer.WriteString("tool_call_id", m.ToolCallId);
                }
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
