using System.Text.Json;
using System.Text.RegularExpressions;

namespace ObjectaLabs.Orleans.Api.Problems;

/// <summary>
/// A request body the JSON binder refused, said in our words: an unknown field is an unknown field, a value of
/// the wrong type names the type expected, and only what does not parse is "malformed JSON".
/// </summary>
public static partial class JsonBindingMessages
{
    [GeneratedRegex("""^The JSON property '(?<name>.*)' could not be mapped to any \.NET member""", RegexOptions.Singleline)]
    private static partial Regex UnknownMember();

    [GeneratedRegex("""^The JSON value could not be converted to """, RegexOptions.Singleline)]
    private static partial Regex WrongType();

    [GeneratedRegex("""\.(?<name>[^.\[]+)|\[(?<index>\d+)\]|\['(?<quoted>[^']*)'\]""")]
    private static partial Regex PathSegment();

    /// <summary>Title and detail for a body the binder refused; <paramref name="bodyType"/> (the route's body type) tells the type expected at <paramref name="field"/> of <paramref name="json"/>.</summary>
    public static (string Title, string Detail) Describe(JsonException json, string field, Type? bodyType)
    {
        var message = json.Message;
        if (UnknownMember().Match(message) is { Success: true } unknown)
        {
            return ("Unknown field", $"'{Truncate(unknown.Groups["name"].Value)}' is not a field of this request (at {field}); check its spelling against the API reference.");
        }
        if (WrongType().IsMatch(message))
        {
            return ("Invalid field type", $"The value at {field} must be {Kind(TypeAt(bodyType, field))}.");
        }
        return json.LineNumber is { } line
            ? ("Malformed JSON", $"The request body is not valid JSON at {field} (line {line + 1}, byte {json.BytePositionInLine + 1}).")
            : ("Malformed JSON", $"The request body could not be read at {field}.");
    }

    /// <summary>The declared type at a JSON path such as <c>$.messages[0].rating</c>, or null when it cannot be told.</summary>
    public static Type? TypeAt(Type? root, string path)
    {
        var type = root;
        foreach (Match segment in PathSegment().Matches(path))
        {
            if (type is null)
            {
                return null;
            }
            type = Nullable.GetUnderlyingType(type) ?? type;
            if (segment.Groups["index"].Success)
            {
                type = ElementType(type);
                continue;
            }
            var name = segment.Groups["name"].Success ? segment.Groups["name"].Value : segment.Groups["quoted"].Value;
            if (DictionaryValueType(type) is { } valueType)
            {
                type = valueType;
                continue;
            }
            type = type.GetProperties().FirstOrDefault(p =>
                string.Equals(p.GetCustomAttributes(typeof(System.Text.Json.Serialization.JsonPropertyNameAttribute), true)
                    .Cast<System.Text.Json.Serialization.JsonPropertyNameAttribute>().FirstOrDefault()?.Name ?? p.Name, name, StringComparison.OrdinalIgnoreCase))?.PropertyType;
        }
        return type is null ? null : Nullable.GetUnderlyingType(type) ?? type;
    }

    private static Type? ElementType(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];

    private static Type? DictionaryValueType(Type type) =>
        type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>))?.GetGenericArguments()[1];

    private static string Kind(Type? type) => type switch
    {
        null => "of the type the API reference gives",
        _ when type == typeof(int) || type == typeof(long) || type == typeof(short) => "a whole number (a JSON number, not a string)",
        _ when type == typeof(double) || type == typeof(decimal) || type == typeof(float) => "a number (a JSON number, not a string)",
        _ when type == typeof(bool) => "true or false",
        _ when type == typeof(string) => "a string",
        _ when type == typeof(Guid) => "a UUID string",
        _ when type == typeof(DateTimeOffset) || type == typeof(DateTime) => "an ISO 8601 date and time string",
        _ when type == typeof(JsonElement) => "a JSON value of the documented shape",
        _ when type.IsEnum => "one of: " + string.Join(", ", Enum.GetNames(type).Select(JsonNamingPolicy.CamelCase.ConvertName)),
        _ when DictionaryValueType(type) is not null => "an object",
        _ when ElementType(type) is not null => "a list",
        _ => "an object",
    };

    private static string Truncate(string value) => value.Length <= 80 ? value : value[..80] + "…";
}
