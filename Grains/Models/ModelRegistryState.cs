namespace ObjectaLabs.Orleans.Models;

/// <summary>What an organization's registry persists: the last version per line and its models in order.</summary>
[GenerateSerializer, Alias("objectalabs.model-registry-state")]
public sealed class ModelRegistryState
{
    /// <summary>Last version handed out per model line, keyed by the line's name in upper case.</summary>
    [Id(0)] public Dictionary<string, int> LastVersions { get; set; } = [];

    /// <summary>Model ids in registration order.</summary>
    [Id(1)] public List<Guid> ModelIds { get; set; } = [];

    /// <summary>The version handed to each job's model, so a retried registration gets the same one.</summary>
    [Id(2)] public Dictionary<Guid, int> VersionByJob { get; set; } = [];
    /// <summary>The organization's default model, if any.</summary>
    [Id(3)] public Guid? DefaultModelId { get; set; }

    /// <summary>A deep copy, mutated by a grain method and kept only after its write succeeded.</summary>
    public ModelRegistryState Copy() => new()
    {
        LastVersions = new(LastVersions),
        ModelIds = [.. ModelIds],
        VersionByJob = new(VersionByJob),
        DefaultModelId = DefaultModelId,
    };
}
