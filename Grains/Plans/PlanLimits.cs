using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Plans;

/// <summary>
/// The one way a plan limit refuses a request: the problem names the plan and the limit (<c>plan</c>, <c>limit</c>)
/// and gives its figures as numbers: the plan's value (<c>allowed</c>), the current use (<c>current</c>) and what
/// the request asked for (<c>requested</c>).
/// </summary>
public static class PlanLimits
{
    public static ProblemException Exceeded(PlanDefinition plan, string limit, long allowed, long current, long requested, string detail) =>
        new(ProblemKind.PlanLimit, "Plan limit reached", detail, field: null, new Dictionary<string, string>
        {
            ["plan"] = plan.Name,
            ["limit"] = limit,
        })
        {
            Figures = new Dictionary<string, long> { ["allowed"] = allowed, ["current"] = current, ["requested"] = requested },
        };

    public static ProblemException NotIncluded(PlanDefinition plan, string feature, string detail, long requested = 1) =>
        new(ProblemKind.PlanLimit, "Not included in plan", detail, field: null, new Dictionary<string, string>
        {
            ["plan"] = plan.Name,
            ["limit"] = feature,
        })
        {
            Figures = new Dictionary<string, long> { ["allowed"] = 0, ["current"] = 0, ["requested"] = requested },
        };
}
