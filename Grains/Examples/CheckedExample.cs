using System.Text;
using System.Text.Json;
using ObjectaLabs.Orleans.Tokens;

namespace ObjectaLabs.Orleans.Examples;

/// <summary>
/// A valid example in the form it is stored: the canonical JSON of each part, the content hash over
/// the whole canonical example, and figures the upload report needs.
/// </summary>
public sealed record class CheckedExample(
    string Messages,
    string? Tools,
    string? Functions,
    bool? ParallelToolCalls,
    byte[] ContentHash,
    int Tokens,
    int MessageCount)
{
    /// <summary>Parses and checks one line; the answer is null when the line is not a valid example (the issues say why).</summary>
    public static CheckedExample? Check(ReadOnlySpan<byte> utf8, long line, List<ExampleIssue> issues, ExampleTokenCounter? counter)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 64 });
            document = JsonDocument.ParseValue(ref reader);
            if (reader.BytesConsumed < utf8.Length && !utf8[(int)reader.BytesConsumed..].Trim(" \t\r\n"u8).IsEmpty)
            {
                issues.Add(new ExampleIssue(line, "$", "invalid_json", "The line holds more than one JSON value."));
                document.Dispose();
                return null;
            }
        }
        catch (JsonException e)
        {
            issues.Add(new ExampleIssue(line, "$", "invalid_json", $"Not valid JSON: {e.Message}"));
            return null;
        }
        using (document)
        {
            return Check(document.RootElement, line, issues, counter);
        }
    }

    public static CheckedExample? Check(string json, long line, List<ExampleIssue> issues, ExampleTokenCounter? counter) =>
        Check(Encoding.UTF8.GetBytes(json), line, issues, counter);

    public static CheckedExample? Check(JsonElement root, long line, List<ExampleIssue> issues, ExampleTokenCounter? counter)
    {
        if (!ExampleValidator.Validate(root, line, issues))
        {
            return null;
        }
        var canonical = CanonicalJson.ToUtf8(root);
        var messages = root.GetProperty("messages");
        return new CheckedExample(
            CanonicalJson.ToText(messages),
            Part(root, "tools"),
            Part(root, "functions"),
            root.TryGetProperty("parallel_tool_calls", out var parallel) && parallel.ValueKind != JsonValueKind.Null ? parallel.GetBoolean() : null,
            CanonicalJson.Hash(canonical),
            counter?.CountExample(root) ?? 0,
            messages.GetArrayLength());
    }

    private static string? Part(JsonElement root, string name) =>
        root.TryGetProperty(name, out var part) && part.ValueKind != JsonValueKind.Null ? CanonicalJson.ToText(part) : null;
}
