namespace ObjectaLabs.Orleans.ProviderEmulators;

/// <summary>Where a simulated job is on its timeline (in ticks since creation, pauses excluded).</summary>
public enum TrainingPhase
{
    Validating,
    Queued,
    Running,
    Finalizing,
    Succeeded,
    Failed,
}

/// <summary>A file an emulator holds (bytes kept in memory: the emulators serve tests and demos).</summary>
public sealed class StoredFile(string id, string fileName, string purpose, byte[] content, DateTimeOffset createdAt)
{
    public string Id { get; } = id;
    public string FileName { get; } = fileName;
    public string Purpose { get; } = purpose;
    public byte[] Content { get; } = content;
    public DateTimeOffset CreatedAt { get; } = createdAt;
    public int Lines { get; } = content.Count(b => b == (byte)'\n') + (content.Length > 0 && content[^1] != (byte)'\n' ? 1 : 0);
}

/// <summary>The shared arithmetic of a simulated run: phases from elapsed ticks and a falling loss curve.</summary>
public static class SimulatedTraining
{
    /// <summary>Ticks of validating and queued before the first step.</summary>
    public const int TicksBeforeTraining = 2;

    /// <summary>The phase and current step (1-based, 0 before training) after <paramref name="ticks"/> ticks.</summary>
    public static (TrainingPhase Phase, int Step) At(long ticks, int totalSteps, int? failAtStep, int finalizingTicks)
    {
        if (ticks < 1)
        {
            return (TrainingPhase.Validating, 0);
        }
        if (ticks < TicksBeforeTraining)
        {
            return (TrainingPhase.Queued, 0);
        }
        var step = (int)Math.Min(ticks - TicksBeforeTraining + 1, totalSteps + 1L);
        if (failAtStep is { } fail && step >= fail)
        {
            return (TrainingPhase.Failed, fail);
        }
        if (step <= totalSteps)
        {
            return (TrainingPhase.Running, step);
        }
        var after = ticks - TicksBeforeTraining - totalSteps;
        return after < finalizingTicks ? (TrainingPhase.Finalizing, totalSteps) : (TrainingPhase.Succeeded, totalSteps);
    }

    /// <summary>Training loss at a step: falls from about 2.2 towards 0.3, with a small deterministic wobble.</summary>
    public static double TrainLoss(string jobId, int step, int totalSteps) =>
        Math.Round(0.3 + 1.9 * Math.Exp(-3.0 * step / Math.Max(1, totalSteps)) + Wobble(jobId, step), 4);

    /// <summary>Validation loss: a little above the training loss.</summary>
    public static double ValidationLoss(string jobId, int step, int totalSteps) =>
        Math.Round(TrainLoss(jobId, step, totalSteps) * 1.08 + 0.05, 4);

    public static double Accuracy(double loss) => Math.Round(Math.Clamp(1.0 - loss / 3.0, 0, 1), 4);

    /// <summary>Steps that end an epoch, of the last three epochs (where OpenAI keeps checkpoints).</summary>
    public static IReadOnlySet<int> CheckpointSteps(int totalSteps, int epochs)
    {
        epochs = Math.Clamp(epochs, 1, totalSteps);
        var steps = new HashSet<int>();
        for (var e = Math.Max(1, epochs - 2); e <= epochs; e++)
        {
            steps.Add((int)Math.Round((double)totalSteps * e / epochs));
        }
        return steps;
    }

    /// <summary>Tokens a run trains on: about four bytes a token, times epochs.</summary>
    public static long TrainedTokens(StoredFile training, int epochs) => Math.Max(1, training.Content.Length / 4) * (long)epochs;

    private static double Wobble(string jobId, int step)
    {
        var hash = HashCode.Combine(StringComparer.Ordinal.GetHashCode(jobId), step);
        return (hash % 1000) / 1000.0 * 0.03;
    }

    public static long Unix(DateTimeOffset at) => at.ToUnixTimeSeconds();

    public static string NewId(string prefix, int length = 24) =>
        prefix + Convert.ToHexString(Guid.NewGuid().ToByteArray()).ToLowerInvariant()[..Math.Min(length, 32)];
}
