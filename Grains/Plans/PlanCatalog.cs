using System.Text.Json.Serialization;
using ObjectaLabs.Orleans.Hosting;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Plans;

/// <summary>Where the plans file is; the default is the copy shipped beside the binaries.</summary>
public sealed class PlanOptions
{
    public const string Section = "Plans";

    public string File { get; set; } = DataFile.DefaultPath("plans.json");
}

/// <summary>The plans, loaded and checked once at start-up.</summary>
public sealed class PlanCatalog
{
    private readonly Dictionary<string, PlanDefinition> _byName;

    public PlanCatalog(IReadOnlyList<PlanDefinition> plans)
    {
        if (plans.Count == 0)
        {
            throw new InvalidOperationException("The plan catalog is empty.");
        }
        foreach (var plan in plans)
        {
            if (string.IsNullOrWhiteSpace(plan.Name) || plan.Name != plan.Name.ToLowerInvariant())
            {
                throw new InvalidOperationException($"Plan name '{plan.Name}' must be a non-empty lower-case identifier.");
            }
            if (plan.MaxFineTunedModels < 0 || plan.MaxTrainingExamples < 0 || plan.MaxConversations < 0 || plan.MaxConversationBytes < 0)
            {
                throw new InvalidOperationException($"Plan '{plan.Name}' has a negative limit.");
            }
        }
        _byName = plans.ToDictionary(p => p.Name, StringComparer.Ordinal);
        if (_byName.Count != plans.Count)
        {
            throw new InvalidOperationException("Plan names must be unique.");
        }
        All = plans;
    }

    public IReadOnlyList<PlanDefinition> All { get; }

    /// <summary>The plan by name, or a validation problem naming the field the caller passed it in.</summary>
    public PlanDefinition Get(string name, string field = "plan") =>
        _byName.TryGetValue(name?.Trim().ToLowerInvariant() ?? "", out var plan)
            ? plan
            : throw ProblemException.Invalid(field, $"Unknown plan '{name}'. Known plans: {string.Join(", ", _byName.Keys)}.");

    public static PlanCatalog Load(string path)
    {
        var file = DataFile.Read<PlanFile>(path);
        return new PlanCatalog(file.Plans);
    }

    private sealed record PlanFile([property: JsonRequired] List<PlanDefinition> Plans);
}
