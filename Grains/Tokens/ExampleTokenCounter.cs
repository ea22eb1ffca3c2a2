using System.Text.Json;
using Microsoft.ML.Tokenizers;
using ObjectaLabs.Orleans.Catalog;

namespace ObjectaLabs.Orleans.Tokens;

/// <summary>
/// Counts an example's tokens the way OpenAI's cookbook does (3 per message, the role, the content,
/// 1 more per name, 3 to prime the reply), and adds tool calls (name and arguments) and tool
/// definitions (their JSON text), which the cookbook leaves out. The result is an estimate of what the
/// provider bills, exact only in the text it tokenizes.
/// </summary>
public sealed class ExampleTokenCounter(Tokenizer tokenizer, bool approximate)
{
    private const int PerMessage = 3;
    private const int PerName = 1;
    public const int ReplyPriming = 3;

    public static ExampleTokenCounter For(BaseModel model, TokenizerCache cache) =>
        new(cache.Get(model.Tokenizer), model.Tokenizer == TokenizerKind.Approximate);

    /// <summary>True when the model has no exact tokenizer, so every count is an approximation.</summary>
    public bool Approximate { get; } = approximate;

    public int Count(string? text) => string.IsNullOrEmpty(text) ? 0 : tokenizer.CountTokens(text);

    /// <summary>Tokens of one chat message with only a role and text content.</summary>
    public int CountMessage(string role, string content) => PerMessage + Count(role) + Count(content);

    /// <summary>Tokens of chat messages with only roles and text content, the reply's priming included.</summary>
    public int CountMessages(IEnumerable<(string Role, string Content)> messages) => ReplyPriming + messages.Sum(m => CountMessage(m.Role, m.Content));

    /// <summary>Tokens of an already validated example (the root object of one line).</summary>
    public int CountExample(JsonElement example)
    {
        var total = ReplyPriming;
        if (example.TryGetProperty("messages", out var messages))
        {
            foreach (var message in messages.EnumerateArray())
            {
                total += PerMessage;
                foreach (var property in message.EnumerateObject())
                {
                    total += CountMessageProperty(property);
                }
            }
        }
        if (example.TryGetProperty("tools", out var tools))
        {
            total += Count(tools.GetRawText());
        }
        if (example.TryGetProperty("functions", out var functions))
        {
            total += Count(functions.GetRawText());
        }
        return total;
    }

    private int CountMessageProperty(JsonProperty property)
    {
        // NameEquals compares UTF-8 bytes: no string is made for each property name.
        if (property.NameEquals("role"u8) || property.NameEquals("tool_call_id"u8))
        {
            return Count(property.Value.GetString());
        }
        if (property.NameEquals("content"u8))
        {
            return CountContent(property.Value);
        }
        if (property.NameEquals("name"u8))
        {
            return PerName + Count(property.Value.GetString());
        }
        if (property.NameEquals("tool_calls"u8))
        {
            return CountToolCalls(property.Value);
        }
        return property.NameEquals("function_call"u8) ? CountCall(property.Value) : 0;
    }

    private int CountContent(JsonElement content)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                return Count(content.GetString());
            case JsonValueKind.Array:
                var sum = 0;
                foreach (var part in content.EnumerateArray())
                {
                    if (part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
                    {
                        sum += Count(text.GetString());
                    }
                    else if (part.TryGetProperty("image_url", out _))
                    {
                        // OpenAI bills a low-detail image at 85 tokens; higher detail costs more and
                        // depends on the image size, which a count from text cannot know.
                        sum += 85;
                    }
                }
                return sum;
            default:
                return 0;
        }
    }

    private int CountToolCalls(JsonElement calls)
    {
        var sum = 0;
        foreach (var call in calls.EnumerateArray())
        {
            if (call.TryGetProperty("function", out var function))
            {
                sum += CountCall(function);
            }
        }
        return sum;
    }

    private int CountCall(JsonElement function) =>
        (function.TryGetProperty("name", out var name) ? Count(name.GetString()) : 0)
        + (function.TryGetProperty("arguments", out var arguments) ? Count(arguments.GetString()) : 0);
}
