using ObjectaLabs.Orleans.Models;

namespace ObjectaLabs.Orleans.Models;

/// <summary>What the model grain persists. Serialized as JSON by the ADO.NET store.</summary>
[GenerateSerializer, Alias("objectalabs.fine-tuned-model-state")]
public sealed class FineTunedModelState
{
    /// <summary>Null until the job registered the model.</summary>
    [Id(0)] public FineTunedModelInfo? Model { get; set; }
}
