using System.Text;
using System.Text.Json;

namespace ObjectaLabs.Orleans.Quality;

/// <summary>The human-written text of an example: each message's content (strings and text parts) with its JSON path.</summary>
public static class ExampleText
{
    public static IEnumerable<(string Path, string Role, string Text)> Texts(JsonElement example)
    {
        var i = 0;
        foreach (var message in example.GetProperty("messages").EnumerateArray())
        {
            var path = $"$.messages[{i++}].content";
            var role = message.TryGetProperty("role", out var r) ? r.GetString() ?? "" : "";
            if (!message.TryGetProperty("content", out var content))
            {
                continue;
            }
            if (content.ValueKind == JsonValueKind.String)
            {
                yield return (path, role, content.GetString()!);
            }
            else if (content.ValueKind == JsonValueKind.Array)
            {
                var j = 0;
                foreach (var part in content.EnumerateArray())
                {
                    if (part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
                    {
                        yield return ($"{path}[{j}].text", role, text.GetString()!);
                    }
                    j++;
                }
            }
        }
    }

    /// <summary>
    /// The text for near-duplicate detection: roles and contents, lower-cased, with punctuation dropped
    /// and whitespace collapsed, so "Hello,  World!" and "hello world" match.
    /// </summary>
    public static string Normalized(JsonElement example)
    {
        var builder = new StringBuilder();
        foreach (var (_, role, text) in Texts(example))
        {
            builder.Append(role).Append(':');
            var space = false;
            foreach (var c in text)
            {
                if (char.IsLetterOrDigit(c))
                {
                    if (space && builder.Length > 0 && builder[^1] != ':')
                    {
                        builder.Append(' ');
                    }
                    builder.Append(char.ToLowerInvariant(c));
                    space = false;
                }
                else if (char.IsWhiteSpace(c) || char.IsPunctuation(c) || char.IsSymbol(c))
                {
                    space = true;
                }
            }
            builder.Append('\n');
        }
        return builder.ToString();
    }
}
