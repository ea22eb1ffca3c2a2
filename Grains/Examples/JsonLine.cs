using System.Text;
using System.Text.Json;
using ObjectaLabs.Orleans.Text;

namespace ObjectaLabs.Orleans.Examples;

/// <summary>
/// Reads one JSONL line as exactly one JSON value, refusing in our own words (with the line and the
/// column, counted in characters) what JSON itself or PostgreSQL cannot take: bytes that are not
/// UTF-8, a NUL (raw or <c>\u0000</c>), an unpaired surrogate escape (<c>\ud800</c>), the same key twice
/// in one object at any depth (parsers disagree on which value wins), nesting deeper than
/// <see cref="MaxDepth"/>, a byte-order mark inside the file, and anything after the value.
/// </summary>
public static class JsonLine
{
    public const int MaxDepth = 64;

    private static ReadOnlySpan<byte> Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>The parsed line, or null with one issue saying why it is not one clean JSON value.</summary>
    public static JsonDocument? Parse(ReadOnlySpan<byte> utf8, long line, List<ExampleIssue> issues)
    {
        if (StorableText.Find(utf8) is { } fault)
        {
            issues.Add(new ExampleIssue(line, "$", fault.Code, $"Line {line}, column {fault.Column}: the line {fault.Reason}."));
            return null;
        }
        if (utf8.StartsWith(Bom))
        {
            issues.Add(new ExampleIssue(line, "$", "byte_order_mark",
                $"Line {line}, column 1: a byte-order mark (U+FEFF) may only open the file, not a line within it (were two files joined?)."));
            return null;
        }
        var end = Scan(utf8, line, issues);
        if (end < 0)
        {
            return null;
        }
        // The scan proved the text is one well-formed, storable value; parsing it again cannot fail.
        return JsonDocument.Parse(utf8[..end].ToArray(), new JsonDocumentOptions { MaxDepth = MaxDepth + 1 });
    }

    /// <summary>Walks the tokens; answers the length of the value, or -1 after adding the issue.</summary>
    private static int Scan(ReadOnlySpan<byte> utf8, long line, List<ExampleIssue> issues)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = MaxDepth + 2 });
        var frames = new List<Frame>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        if (frames.Count >= MaxDepth)
                        {
                            return Fail(issues, line, Path(frames), "too_deep", utf8, (int)reader.TokenStartIndex,
                                $"the value is nested more than {MaxDepth} levels deep");
                        }
                        Advance(frames);
                        frames.Add(new Frame(reader.TokenType == JsonTokenType.StartArray));
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        frames.RemoveAt(frames.Count - 1);
                        break;
                    case JsonTokenType.PropertyName:
                        var frame = frames[^1];
                        frame.Name = null; // a bad key is reported at the object that holds it
                        if (reader.ValueIsEscaped && EscapeFault(reader.ValueSpan) is { } nameFault)
                        {
                            return Fail(issues, line, Path(frames), nameFault.Code, utf8, (int)reader.TokenStartIndex + 1 + nameFault.Offset, $"a key {nameFault.Reason}");
                        }
                        var name = reader.GetString()!;
                        frame.Name = name;
                        if (!(frame.Names ??= new HashSet<string>(StringComparer.Ordinal)).Add(name))
                        {
                            return Fail(issues, line, Path(frames), "duplicate_key", utf8, (int)reader.TokenStartIndex,
                                $"the key '{Shorten(name)}' appears twice in the same object (which one counts is not defined)");
                        }
                        break;
                    case JsonTokenType.String:
                        Advance(frames);
                        if (reader.ValueIsEscaped && EscapeFault(reader.ValueSpan) is { } valueFault)
                        {
                            return Fail(issues, line, Path(frames), valueFault.Code, utf8, (int)reader.TokenStartIndex + 1 + valueFault.Offset, $"the text {valueFault.Reason}");
                        }
                        break;
                    default:
                        Advance(frames);
                        break;
                }
                if (frames.Count == 0)
                {
                    break; // the value is complete
                }
            }
        }
        catch (JsonException e)
        {
            var at = (int)Math.Min(e.BytePositionInLine ?? reader.BytesConsumed, utf8.Length);
            var rest = utf8[at..].TrimEnd(" \t\r\n"u8);
            return Fail(issues, line, Path(frames), "invalid_json", utf8, at, rest.IsEmpty
                ? (frames.Count == 0 && utf8.Trim(" \t\r\n"u8).IsEmpty ? "the line holds no JSON value" : "the line ends before the JSON value is complete (an unclosed string, object or list?)")
                : $"this is not valid JSON here (unexpected {Describe(utf8[at..])})");
        }
        var endOfValue = (int)reader.BytesConsumed;
        var trailing = utf8[endOfValue..];
        var skipped = trailing.Length - trailing.TrimStart(" \t\r\n"u8).Length;
        if (skipped < trailing.Length)
        {
            return Fail(issues, line, "$", "trailing_content", utf8, endOfValue + skipped,
                "there is more text after the JSON object; a line holds exactly one example");
        }
        return endOfValue;
    }

    private static int Fail(List<ExampleIssue> issues, long line, string path, string code, ReadOnlySpan<byte> utf8, int byteIndex, string what)
    {
        issues.Add(new ExampleIssue(line, path, code, $"Line {line}, column {StorableText.Column(utf8, byteIndex)}: {what}."));
        return -1;
    }

    private static void Advance(List<Frame> frames)
    {
        if (frames.Count > 0 && frames[^1].IsArray)
        {
            frames[^1].Index++;
        }
    }

    /// <summary>JSON path of the current position: <c>$.messages[2].content</c>.</summary>
    private static string Path(List<Frame> frames)
    {
        var path = new StringBuilder("$");
        foreach (var frame in frames)
        {
            if (frame.IsArray)
            {
                if (frame.Index >= 0)
                {
                    path.Append('[').Append(frame.Index).Append(']');
                }
            }
            else if (frame.Name is not null)
            {
                path.Append(Member(frame.Name));
            }
        }
        return path.ToString();
    }

    /// <summary>A member step of a JSON path: <c>.name</c>, or <c>['odd name']</c> when the name is not a plain identifier.</summary>
    public static string Member(string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') && !char.IsAsciiDigit(name[0])
            ? "." + name
            : "['" + Shorten(name).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "']";

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";

    private static string Describe(ReadOnlySpan<byte> at)
    {
        if (at.IsEmpty)
        {
            return "end of line";
        }
        var b = at[0];
        return b is >= 0x21 and < 0x7F ? $"'{(char)b}'" : b < 0x80 ? $"control character U+{b:X4}" : "character";
    }

    /// <summary>In the raw (escaped) text of a string: the first <c>\u0000</c> or unpaired surrogate escape.</summary>
    private static (int Offset, string Code, string Reason)? EscapeFault(ReadOnlySpan<byte> raw)
    {
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] != (byte)'\\')
            {
                continue;
            }
            if (raw[i + 1] != (byte)'u')
            {
                i++; // a one-letter escape; the reader checked it
                continue;
            }
            var unit = Hex(raw.Slice(i + 2, 4));
            if (unit == 0)
            {
                return (i, StorableText.NulCode, "contains the escape \\u0000 (a NUL character), which cannot be stored");
            }
            if (unit is >= 0xD800 and <= 0xDBFF && i + 11 < raw.Length && raw[i + 6] == (byte)'\\' && raw[i + 7] == (byte)'u'
                && Hex(raw.Slice(i + 8, 4)) is >= 0xDC00 and <= 0xDFFF)
            {
                i += 11; // a surrogate pair is one character
                continue;
            }
            if (unit is >= 0xD800 and <= 0xDFFF)
            {
                return (i, StorableText.SurrogateCode, $"contains the escape \\u{unit:x4}, half of a surrogate pair without its other half, which is not a character");
            }
            i += 5;
        }
        return null;
    }

    private static int Hex(ReadOnlySpan<byte> four)
    {
        var value = 0;
        foreach (var b in four)
        {
            value = (value << 4) | (b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10);
        }
        return value;
    }

    private sealed class Frame(bool isArray)
    {
        public bool IsArray { get; } = isArray;
        public int Index { get; set; } = -1;
        public string? Name { get; set; }
        public HashSet<string>? Names { get; set; }
    }
}
