namespace ObjectaLabs.Orleans.Problems;

/// <summary>How a refused request should be answered; the HTTP layer maps each to one status code.</summary>
public enum ProblemKind
{
    Validation = 0,
    NotFound = 1,
    Conflict = 2,
    PlanLimit = 3,
    Forbidden = 4,
}

/// <summary>
/// A request the domain refuses, raised by grains and carried across the cluster to the API, which
/// answers it as RFC 9457 problem details. <see cref="Field"/> names the input at fault, if any, and
/// <see cref="Extensions"/> carries the figures a caller needs (a plan's limit, the current count).
/// </summary>
[GenerateSerializer, Alias("objectalabs.problem")]
public sealed class ProblemException : Exception
{
    public ProblemException(ProblemKind kind, string title, string detail, string? field = null, IReadOnlyDictionary<string, string>? extensions = null)
        : base(detail)
    {
        Kind = kind;
        Title = title;
        Field = field;
        Extensions = extensions ?? new Dictionary<string, string>();
        // Extensions sit beside RFC 9457's own members in the answer: one of those names would overwrite the member.
        if (Extensions.Keys.FirstOrDefault(ReservedNames.Contains) is { } reserved)
        {
            throw new ArgumentException($"'{reserved}' is a problem member of its own; name the extension otherwise.", nameof(extensions));
        }
    }

    /// <summary>Members every problem answer has (RFC 9457, and our field and errors): no extension may use these names.</summary>
    public static readonly IReadOnlySet<string> ReservedNames = new HashSet<string>(["type", "title", "status", "detail", "instance", "field", "errors", "traceId"], StringComparer.OrdinalIgnoreCase);

    [Id(0)] public ProblemKind Kind { get; init; }
    [Id(1)] public string Title { get; init; }
    [Id(2)] public string? Field { get; init; }
    [Id(3)] public IReadOnlyDictionary<string, string> Extensions { get; init; }
    /// <summary>Figures answered as JSON numbers (a plan limit's allowed, current and requested amounts).</summary>
    [Id(4)] public IReadOnlyDictionary<string, long> Figures { get; init; } = new Dictionary<string, long>();

    public static ProblemException NotFound(string what, object id) =>
        new(ProblemKind.NotFound, $"{what} not found", $"No {what.ToLowerInvariant()} with id '{id}' exists in this organization.");

    public static ProblemException Invalid(string field, string detail) =>
        new(ProblemKind.Validation, "Invalid request", detail, field);

    public static ProblemException Conflict(string detail, string? field = null) =>
        new(ProblemKind.Conflict, "Conflict", detail, field);
}
