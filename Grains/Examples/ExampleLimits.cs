using ObjectaLabs.Orleans.Plans;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Examples;

/// <summary>
/// A check run inside the storing transaction, under the organization's lock: it holds <paramref name="current"/>
/// examples and would add <paramref name="adding"/>; <paramref name="planInForce"/> is the plan its row names now.
/// </summary>
public delegate ProblemException? ExampleLimitCheck(int current, int adding, string? planInForce);

/// <summary>The plan's cap on stored training examples, as the check the stores run inside their transaction.</summary>
public static class ExampleLimits
{
    /// <summary>No cap: for tools and benchmarks that store outside any plan.</summary>
    public static ExampleLimitCheck None { get; } = (_, _, _) => null;

    /// <summary>
    /// Refuses when the organization would hold more examples than the plan allows, or when its plan changed since
    /// the request read it (a downgrade counts examples under the same lock, so the two never pass each other).
    /// </summary>
    public static ExampleLimitCheck For(PlanDefinition plan) => (current, adding, planInForce) =>
        planInForce is not null && !string.Equals(planInForce, plan.Name, StringComparison.Ordinal)
            ? ProblemException.Conflict($"The organization's plan changed from '{plan.Name}' to '{planInForce}' while this request ran; nothing was stored. Send it again.")
        : plan.MaxTrainingExamples is { } max && current + adding > max
            ? PlanLimits.Exceeded(plan, "maxTrainingExamples", max, current, adding,
                $"The organization holds {current} training examples and this would add {adding}; plan '{plan.Name}' allows {max}. Nothing was stored.")
            : null;
}
