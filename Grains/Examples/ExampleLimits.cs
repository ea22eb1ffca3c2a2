using ObjectaLabs.Orleans.Plans;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Examples;

/// <summary>A check run inside the storing transaction: the organization holds <paramref name="current"/> examples and would add <paramref name="adding"/>.</summary>
public delegate ProblemException? ExampleLimitCheck(int current, int adding);

/// <summary>The plan's cap on stored training examples, as the check the stores run inside their transaction.</summary>
public static class ExampleLimits
{
    /// <summary>No cap: for tools and benchmarks that store outside any plan.</summary>
    public static ExampleLimitCheck None { get; } = (_, _) => null;

    /// <summary>Refuses when the organization would hold more examples than the plan allows.</summary>
    public static ExampleLimitCheck For(PlanDefinition plan) => (current, adding) =>
        plan.MaxTrainingExamples is { } max && current + adding > max
            ? PlanLimits.Exceeded(plan, "maxTrainingExamples", max, current, adding,
                $"The organization holds {current} training examples and this would add {adding}; plan '{plan.Name}' allows {max}. Nothing was stored.")
            : null;
}
