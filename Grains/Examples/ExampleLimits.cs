using ObjectaLabs.Orleans.Plans;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Examples;

/// <summary>The plan's cap on stored training examples, as the check the stores run inside their transaction.</summary>
public static class ExampleLimits
{
    /// <summary>No cap: for tools and benchmarks that store outside any plan.</summary>
    public static Func<int, ProblemException?> None { get; } = _ => null;

    /// <summary>Refuses when the organization would hold more examples than the plan allows.</summary>
    public static Func<int, ProblemException?> For(PlanDefinition plan) => wouldHave =>
        plan.MaxTrainingExamples is { } max && wouldHave > max
            ? PlanLimits.Exceeded(plan, "maxTrainingExamples", max, wouldHave,
                $"This would bring the organization to {wouldHave} training examples; plan '{plan.Name}' allows {max}. Nothing was stored.")
            : null;
}
