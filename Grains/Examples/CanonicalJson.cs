using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ObjectaLabs.Orleans.Examples;

/// <summary>
/// The canonical text of a JSON value: object keys in ordinal order, no whitespace, strings re-escaped
/// one way, integers as integers, and null-valued object members dropped (absent and null mean the same
/// in the format). Two lines that differ only in key order, spacing or escaping have the same text,
/// hence the same content hash.
/// </summary>
public static class CanonicalJson
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    /// <summary>An object with the same key twice has no single meaning, so it has no canonical form.</summary>
    public sealed class DuplicateKeyException(string key) : Exception($"Key '{key}' appears twice in one object.");

    public static byte[] ToUtf8(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            Write(writer, element);
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static string ToText(JsonElement element) => System.Text.Encoding.UTF8.GetString(ToUtf8(element));

    /// <summary>SHA-256 of the canonical text: the example's identity within an organization.</summary>
    public static byte[] Hash(ReadOnlySpan<byte> canonicalUtf8) => SHA256.HashData(canonicalUtf8);

    public static void Write(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(writer, element);
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Write(writer, item);
                }
                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                var raw = JsonMarshal.GetRawUtf8Value(element)[1..^1];
                if (raw.IndexOf((byte)'\\') < 0)
                {
                    writer.WriteStringValue(raw); // no escapes: the raw bytes are the value (saves a string per value)
                }
                else
                {
                    writer.WriteStringValue(element.GetString());
                }
                break;
            case JsonValueKind.Number:
                if (element.TryGetInt64(out var integer))
                {
                    writer.WriteNumberValue(integer);
                }
                else
                {
                    var d = element.GetDouble();
                    if (d == Math.Floor(d) && Math.Abs(d) < 1e15)
                    {
                        writer.WriteNumberValue((long)d);
                    }
                    else
                    {
                        writer.WriteNumberValue(d);
                    }
                }
                break;
            case JsonValueKind.True:
                writer.WriteBooleanValue(true);
                break;
            case JsonValueKind.False:
                writer.WriteBooleanValue(false);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }

    private static void WriteObject(Utf8JsonWriter writer, JsonElement element)
    {
        var properties = new List<JsonProperty>();
        var escaped = false;
        foreach (var p in element.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Null)
            {
                properties.Add(p);
                escaped |= JsonMarshal.GetRawUtf8PropertyName(p).IndexOf((byte)'\\') >= 0;
            }
        }
        // Ordinal order of the UTF-8 bytes equals ordinal order of the code points; names with escapes
        // (rare) are compared decoded, as strings, whose UTF-16 order can differ, so never mix the two.
        Comparison<JsonProperty> compare = escaped
            ? (a, b) => string.CompareOrdinal(a.Name, b.Name)
            : (a, b) => JsonMarshal.GetRawUtf8PropertyName(a).SequenceCompareTo(JsonMarshal.GetRawUtf8PropertyName(b));
        properties.Sort(compare);
        for (var i = 1; i < properties.Count; i++)
        {
            if (compare(properties[i], properties[i - 1]) == 0)
            {
                throw new DuplicateKeyException(properties[i].Name);
            }
        }
        writer.WriteStartObject();
        foreach (var p in properties)
        {
            if (escaped)
            {
                writer.WritePropertyName(p.Name);
            }
            else
            {
                writer.WritePropertyName(JsonMarshal.GetRawUtf8PropertyName(p));
            }
            Write(writer, p.Value);
        }
        writer.WriteEndObject();
    }
}
