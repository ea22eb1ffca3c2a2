using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Examples;

/// <summary>Refusals of a single example, naming the JSON path at fault.</summary>
public static class ExampleProblems
{
    public static ProblemException Invalid(IReadOnlyList<ExampleIssue> issues)
    {
        var first = issues[0];
        return new ProblemException(ProblemKind.Validation, "Invalid training example",
            string.Join(" ", issues.Select(i => $"{i.Path}: {i.Reason}")),
            field: "example",
            new Dictionary<string, string> { ["path"] = first.Path, ["code"] = first.Code, ["issues"] = issues.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) });
    }

    public static CheckedExample Require(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            throw ProblemException.Invalid("example", "'example' is required: one JSON object in the OpenAI chat fine-tuning format.");
        }
        var issues = new List<ExampleIssue>();
        return CheckedExample.Check(json, 1, issues, counter: null) ?? throw Invalid(issues);
    }

    public static IReadOnlyList<string> Tags(IReadOnlyList<string>? tags)
    {
        var clean = (tags ?? []).Select(t => t?.Trim() ?? "").Where(t => t.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        if (clean.Count > 50 || clean.Any(t => t.Length > 100))
        {
            throw ProblemException.Invalid("tags", "At most 50 tags of at most 100 characters each.");
        }
        return clean;
    }
}
