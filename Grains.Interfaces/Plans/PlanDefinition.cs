namespace ObjectaLabs.Orleans.Plans;

/// <summary>
/// One subscription plan's limits, read from <c>Data/plans.json</c>. A null limit means unlimited;
/// an allowed-base-model entry of <c>*</c> allows every fine-tunable model in the catalog.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.plan")]
public sealed record class PlanDefinition(
    string Name,
    string DisplayName,
    bool FineTuning,
    int? MaxFineTunedModels,
    int? MaxTrainingExamples,
    bool AbTesting,
    IReadOnlyList<string> AllowedBaseModels,
    long? MaxConversations = null,
    long? MaxConversationBytes = null)
{
    public bool AllowsBaseModel(string baseModel) =>
        AllowedBaseModels.Contains("*") || AllowedBaseModels.Contains(baseModel, StringComparer.OrdinalIgnoreCase);
}
