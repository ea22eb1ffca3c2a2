namespace ObjectaLabs.Orleans.ProviderEmulators;

/// <summary>
/// Both emulators in one process, for tests and for <c>dotnet run</c>: start, read the base URLs, tell
/// them to misbehave (<see cref="EmulatorBase.Faults"/>), and inspect what they received and hold.
/// </summary>
public sealed class ProviderEmulatorHost : IAsyncDisposable
{
    private ProviderEmulatorHost(EmulatorOptions options)
    {
        Clock = new EmulatorClock(TimeProvider.System, options.AutoAdvance);
        OpenAi = new OpenAiEmulator(options, Clock);
        Together = new TogetherEmulator(options, Clock);
    }

    public EmulatorClock Clock { get; }
    public OpenAiEmulator OpenAi { get; }
    public TogetherEmulator Together { get; }

    /// <summary>The OpenAI emulator's base URL, <c>http://127.0.0.1:port/v1</c> (the SDK's <c>Endpoint</c>).</summary>
    public Uri OpenAiBaseUrl => OpenAi.BaseUrl;

    /// <summary>The Together emulator's base URL, <c>http://127.0.0.1:port/v1</c>.</summary>
    public Uri TogetherBaseUrl => Together.BaseUrl;

    /// <summary>Starts both emulators (ports 0 in <paramref name="options"/> pick free ones).</summary>
    public static async Task<ProviderEmulatorHost> StartAsync(EmulatorOptions? options = null)
    {
        var host = new ProviderEmulatorHost(options ??= new EmulatorOptions());
        await host.OpenAi.StartAsync(options.OpenAiPort);
        await host.Together.StartAsync(options.TogetherPort);
        return host;
    }

    /// <summary>Removes every fault and forgets the recorded requests of both emulators.</summary>
    public void Reset()
    {
        OpenAi.Faults.Clear();
        Together.Faults.Clear();
        OpenAi.Requests.Clear();
        Together.Requests.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        await OpenAi.StopAsync();
        await Together.StopAsync();
    }
}
