using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ObjectaLabs.Orleans.Text;
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
        if (JsonLine.Parse(utf8, line, issues) is not { } document)
        {
            return null;
        }
        using (document)
        {
            return Check(document.RootElement, line, issues, counter);
        }
    }

    /// <summary>
    /// Parses and checks an example given as text. A .NET string can hold what UTF-8 cannot (an unpaired
    /// surrogate would silently become U+FFFD), so it is checked as text first.
    /// </summary>
    public static CheckedExample? Check(string json, long line, List<ExampleIssue> issues, ExampleTokenCounter? counter)
    {
        if (StorableText.Find(json.AsSpan()) is { } fault)
        {
            issues.Add(new ExampleIssue(line, "$", fault.Code, $"Line {line}, column {fault.Column}: the example {fault.Reason}."));
            return null;
        }
        return Check(Encoding.UTF8.GetBytes(json), line, issues, counter);
    }

    private static CheckedExample? Check(JsonElement root, long line, List<ExampleIssue> issues, ExampleTokenCounter? counter)
    {
        if (!ExampleValidator.Validate(root, line, issues))
        {
            return null;
        }
        byte[] messages;
        byte[]? tools, functions;
        try
        {
            messages = CanonicalJson.ToUtf8(root.GetProperty("messages"));
            tools = Part(root, "tools");
            functions = Part(root, "functions");
        }
        catch (CanonicalJson.DuplicateKeyException e)
        {
            issues.Add(new ExampleIssue(line, "$", "duplicate_key", e.Message));
            return null;
        }
        bool? parallel = root.TryGetProperty("parallel_tool_calls", out var p) && p.ValueKind != JsonValueKind.Null ? p.GetBoolean() : null;
        return new CheckedExample(
            Encoding.UTF8.GetString(messages),
            tools is null ? null : Encoding.UTF8.GetString(tools),
            functions is null ? null : Encoding.UTF8.GetString(functions),
            parallel,
            Hash(messages, tools, functions, parallel),
            counter?.CountExample(root) ?? 0,
            root.GetProperty("messages").GetArrayLength());
    }

    /// <summary>
    /// SHA-256 of the canonical example, composed from its canonical parts (root keys in ordinal order),
    /// so the whole example is not written twice: equal to hashing <c>CanonicalJson.ToUtf8(root)</c>.
    /// </summary>
    private static byte[] Hash(byte[] messages, byte[]? tools, byte[]? functions, bool? parallel)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData("{"u8);
        if (functions is not null)
        {
            hash.AppendData("\"functions\":"u8);
            hash.AppendData(functions);
            hash.AppendData(","u8);
        }
        hash.AppendData("\"messages\":"u8);
        hash.AppendData(messages);
        if (parallel is { } value)
        {
            hash.AppendData(value ? ",\"parallel_tool_calls\":true"u8 : ",\"parallel_tool_calls\":false"u8);
        }
        if (tools is not null)
        {
            hash.AppendData(",\"tools\":"u8);
            hash.AppendData(tools);
        }
        hash.AppendData("}"u8);
        return hash.GetHashAndReset();
    }

    private static byte[]? Part(JsonElement root, string name) =>
        root.TryGetProperty(name, out var part) && part.ValueKind != JsonValueKind.Null ? CanonicalJson.ToUtf8(part) : null;
}
