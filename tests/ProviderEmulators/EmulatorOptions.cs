namespace ObjectaLabs.Orleans.ProviderEmulators;

/// <summary>How the emulators listen and how fast their simulated jobs move.</summary>
public sealed record class EmulatorOptions
{
    /// <summary>Port of the OpenAI emulator; 0 picks a free one.</summary>
    public int OpenAiPort { get; init; }

    /// <summary>Port of the Together emulator; 0 picks a free one.</summary>
    public int TogetherPort { get; init; }

    /// <summary>
    /// One tick of a simulated job: validating and queued last one tick each, then one training step per
    /// tick (Together adds compressing and uploading, one tick each).
    /// </summary>
    public TimeSpan Tick { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Training steps of every simulated job.</summary>
    public int TotalSteps { get; init; } = 12;

    /// <summary>False freezes the clock: jobs then move only through <see cref="EmulatorClock.Advance"/> (deterministic tests).</summary>
    public bool AutoAdvance { get; init; } = true;

    /// <summary>Seed of the random numbers behind rate-based faults, so a chaos run can be replayed.</summary>
    public int FaultSeed { get; init; } = 7;

    /// <summary>Parses <c>--openai-port N --together-port N --tick-ms N --steps N</c>.</summary>
    public static EmulatorOptions FromArgs(string[] args)
    {
        var options = new EmulatorOptions { OpenAiPort = 5585, TogetherPort = 5586 };
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var value = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
            options = args[i] switch
            {
                "--openai-port" => options with { OpenAiPort = value },
                "--together-port" => options with { TogetherPort = value },
                "--tick-ms" => options with { Tick = TimeSpan.FromMilliseconds(value) },
                "--steps" => options with { TotalSteps = value },
                _ => throw new ArgumentException($"Unknown option '{args[i]}'. Use --openai-port, --together-port, --tick-ms, --steps."),
            };
        }
        return options;
    }
}

/// <summary>The emulators' clock: real time (when auto-advancing) plus whatever a test added.</summary>
public sealed class EmulatorClock(TimeProvider time, bool autoAdvance)
{
    private readonly DateTimeOffset _start = time.GetUtcNow();
    private long _offsetTicks;

    public DateTimeOffset Now =>
        (autoAdvance ? time.GetUtcNow() : _start) + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    /// <summary>Moves every simulated job forward by <paramref name="by"/>.</summary>
    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
}
