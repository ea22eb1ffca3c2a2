namespace ObjectaLabs.Orleans.Models;

/// <summary>What a model card warns about: its status, and its base model's shutdown 30 and 7 days ahead.</summary>
public static class ModelWarnings
{
    public const int NoticeDays = 30;
    public const int UrgentDays = 7;

    public static IReadOnlyList<string> For(FineTunedModelInfo model, DateOnly today)
    {
        var warnings = new List<string>();
        switch (model.Status)
        {
            case ModelStatus.Deprecated:
                warnings.Add("Deprecated: still served, but it cannot become a new default or deployment.");
                break;
            case ModelStatus.Archived:
                warnings.Add("Archived: not served; its traffic goes to the fallback. It can be restored.");
                break;
            case ModelStatus.Retired:
                warnings.Add($"Retired on {model.RetiredAt:yyyy-MM-dd}: its base model {model.BaseModel} was shut down; its traffic goes to the fallback.");
                break;
            case ModelStatus.Deleted:
                warnings.Add("Deleted: not served; kept for reports.");
                break;
        }
        if (model.Status.Serves() && model.ShutdownDate is { } shutdown && shutdown.DayNumber - today.DayNumber is var days && days <= NoticeDays)
        {
            warnings.Add($"{(days <= UrgentDays ? "Urgent: " : "")}{model.BaseModel} shuts down on {shutdown:yyyy-MM-dd} (in {days} day{(days == 1 ? "" : "s")}): " +
                "the model will be retired then and its traffic will go to the fallback. Retrain it on a base model that takes new jobs.");
        }
        if (model.Status.Serves() && model.ServingNow is { IsReady: false } serving)
        {
            warnings.Add(serving.State == ServingState.EndpointStarting
                ? $"Not answering yet: its dedicated endpoint {serving.Endpoint} is starting; its traffic goes to the fallback until it is ready."
                : $"Not answering: its provider ({model.Provider}) serves fine-tunes only on a dedicated endpoint and none is running; its traffic goes to the fallback. Start one and record it (PUT …/models/{model.Id}/serving).");
        }
        return warnings;
    }
}
