using System.Text.Json.Nodes;

namespace ObjectaLabs.Orleans.Quality;

/// <summary>Rewrites an example's message text with suspected personal data replaced by placeholders.</summary>
public static class PersonalDataRedactor
{
    /// <summary>The redacted example JSON and the number of replacements, or (null, 0) when there was nothing to redact.</summary>
    public static (string? Json, int Replacements) Redact(string exampleJson)
    {
        var root = JsonNode.Parse(exampleJson)!.AsObject();
        var replacements = 0;
        foreach (var message in root["messages"]!.AsArray())
        {
            if (message?["content"] is not { } content)
            {
                continue;
            }
            if (content is JsonValue value && value.TryGetValue<string>(out var text))
            {
                var (redacted, n) = PersonalDataScanner.Redact(text);
                if (n > 0)
                {
                    message["content"] = redacted;
                    replacements += n;
                }
            }
            else if (content is JsonArray parts)
            {
                foreach (var part in parts)
                {
                    if (part?["text"] is JsonValue partText && partText.TryGetValue<string>(out var t))
                    {
                        var (redacted, n) = PersonalDataScanner.Redact(t);
                        if (n > 0)
                        {
                            part["text"] = redacted;
                            replacements += n;
                        }
                    }
                }
            }
        }
        return replacements == 0 ? (null, 0) : (root.ToJsonString(), replacements);
    }
}
