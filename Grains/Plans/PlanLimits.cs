using System.Globalization;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Plans;

/// <summary>The one way a plan limit refuses a request: the problem names the limit, the plan's value and the current use.</summary>
public static class PlanLimits
{
    public static ProblemException Exceeded(PlanDefinition plan, string limit, int allowed, int current, string detail) =>
        new(ProblemKind.PlanLimit, "Plan limit reached", detail, field: null, new Dictionary<string, string>
        {
            ["plan"] = plan.Name,
            ["limit"] = limit,
            ["allowed"] = allowed.ToString(CultureInfo.InvariantCulture),
            ["current"] = current.ToString(CultureInfo.InvariantCulture),
        });

    public static ProblemException NotIncluded(PlanDefinition plan, string feature, string detail) =>
        new(ProblemKind.PlanLimit, "Not included in plan", detail, field: null, new Dictionary<string, string>
        {
            ["plan"] = plan.Name,
            ["limit"] = feature,
            ["allowed"] = "false",
        });
}
