using System.Text.RegularExpressions;

namespace ObjectaLabs.Orleans.Api.Problems;

/// <summary>
/// Turns the framework's parameter-binding refusals (written for developers of the API, naming CLR types and
/// asking "did you mean to use a Service?") into our own words naming the field or parameter.
/// </summary>
public static partial class BindingMessages
{
    [GeneratedRegex("""^(?:Implicit body inferred for parameter|Required parameter) "[^"]*" (?:but no body was provided|was not provided from body)""")]
    private static partial Regex MissingBody();

    [GeneratedRegex("""^Required parameter "(?:\S+ )?(?<name>[^" ]+)" was not provided from (?<source>query string|route|header)""")]
    private static partial Regex MissingParameter();

    [GeneratedRegex("""^Failed to bind parameter "(?<type>\S+) (?<name>[^" ]+)" from "(?<value>.*)"\.$""", RegexOptions.Singleline)]
    private static partial Regex Unparsable();

    [GeneratedRegex("""^Expected a supported JSON media type but got "(?<type>.*)"\.$""", RegexOptions.Singleline)]
    private static partial Regex WrongMediaType();

    /// <summary>Our title, detail and the field at fault for a framework message, or null when it is not one we know.</summary>
    public static (string Title, string Detail, string? Field)? Translate(string message)
    {
        if (MissingBody().IsMatch(message))
        {
            return ("Request body required", "The request body is empty; this route expects a JSON object (content-type: application/json).", "$");
        }
        if (MissingParameter().Match(message) is { Success: true } missing)
        {
            var name = missing.Groups["name"].Value;
            return ("Missing parameter", $"The {Source(missing.Groups["source"].Value)} parameter '{name}' is required.", name);
        }
        if (Unparsable().Match(message) is { Success: true } bad)
        {
            var name = bad.Groups["name"].Value;
            return ("Invalid parameter", $"The parameter '{name}' must be {Kind(bad.Groups["type"].Value)}.", name);
        }
        if (WrongMediaType().Match(message) is { Success: true } media)
        {
            return ("Unsupported media type", UnsupportedMediaType(media.Groups["type"].Value), "content-type");
        }
        return null;
    }

    /// <summary>What a JSON route says to a body of another media type.</summary>
    public static string UnsupportedMediaType(string? sent) =>
        $"This route accepts application/json; the request was sent as {(string.IsNullOrEmpty(sent) ? "no content type" : $"'{Truncate(sent)}'")}.";

    private static string Source(string source) => source switch
    {
        "query string" => "query",
        _ => source,
    };

    private static string Kind(string clrType) => Unwrap(clrType) switch
    {
        "int" or "long" or "short" or "Int32" or "Int64" => "a whole number",
        "double" or "decimal" or "float" or "Double" or "Decimal" => "a number",
        "bool" or "Boolean" => "true or false",
        "Guid" => "a UUID",
        "DateTimeOffset" or "DateTime" => "an ISO 8601 date and time",
        "DateOnly" => "an ISO 8601 date (yyyy-mm-dd)",
        _ => "a valid value",
    };

    private static string Unwrap(string clrType) =>
        clrType.StartsWith("Nullable<", StringComparison.Ordinal) && clrType.EndsWith('>')
            ? clrType["Nullable<".Length..^1]
            : clrType.TrimEnd('?');

    private static string Truncate(string value) => value.Length <= 80 ? value : value[..80] + "…";
}
