using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ObjectaLabs.Orleans.ProviderEmulators;
using ObjectaLabs.Orleans.Providers;
using ObjectaLabs.Orleans.Providers.OpenAi;
using ObjectaLabs.Orleans.Providers.Together;

namespace ObjectaLabs.Orleans.Tests.Providers;

/// <summary>
/// Both emulators on free ports with a frozen clock (jobs move only when a test advances it), and the
/// production provider registrations pointed at them, with short timeouts and retry delays.
/// </summary>
public sealed class ProviderTestHost : IAsyncLifetime
{
    public static readonly TimeSpan Tick = TimeSpan.FromSeconds(10);

    private ServiceProvider _services = null!;

    public ProviderEmulatorHost Emulators { get; private set; } = null!;
    public OpenAiProvider OpenAi => _services.GetRequiredService<OpenAiProvider>();
    public TogetherProvider Together => _services.GetRequiredService<TogetherProvider>();
    public ProviderAccount OpenAiAccount => new("openai", "sk-test-platform", Emulators.OpenAiBaseUrl);
    public ProviderAccount TogetherAccount => new("together", "tg-test-platform", Emulators.TogetherBaseUrl);

    /// <summary>Settings the providers are built with (the timeout is what a slow answer must exceed).</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    public async Task InitializeAsync()
    {
        Emulators = await ProviderEmulatorHost.StartAsync(new EmulatorOptions { AutoAdvance = false, Tick = Tick, TotalSteps = 12 });
        _services = Build(TimeProvider.System);
    }

    /// <summary>The production registrations on the emulators, with this clock for the providers.</summary>
    public ServiceProvider Build(TimeProvider time, int openAiPageSize = 5)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Providers:OpenAI:BaseUrl"] = Emulators.OpenAiBaseUrl.ToString(),
            ["Providers:OpenAI:Timeout"] = Timeout.ToString(),
            ["Providers:OpenAI:PageSize"] = openAiPageSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Providers:Together:BaseUrl"] = Emulators.TogetherBaseUrl.ToString(),
            ["Providers:Together:AttemptTimeout"] = Timeout.ToString(),
            ["Providers:Together:MaxRetries"] = "2",
            ["Providers:Together:RetryBaseDelay"] = "00:00:00.010",
            ["Providers:Together:MaxInlineRetryAfter"] = "00:00:02",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton(time);
        services.AddSingleton(_ => Npgsql.NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Database=unused"));
        Orleans.Providers.Accounts.ProviderServiceCollectionExtensions.AddFineTuningProviders(services, configuration);
        return services.BuildServiceProvider();
    }

    /// <summary>Moves every emulated job forward by <paramref name="ticks"/> ticks.</summary>
    public void Advance(int ticks = 1) => Emulators.Clock.Advance(Tick * ticks);

    public static (Func<Stream, CancellationToken, Task> Write, string Sha256) Jsonl(int lines, string marker)
    {
        var text = new StringBuilder();
        for (var i = 0; i < lines; i++)
        {
            text.Append("{\"messages\":[{\"role\":\"user\",\"content\":\"").Append(marker).Append(' ').Append(i)
                .Append("\"},{\"role\":\"assistant\",\"content\":\"answer ").Append(i).Append("\"}]}\n");
        }
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        return (async (stream, ct) =>
        {
            // Written in small pieces, as the job grain streams a snapshot.
            for (var offset = 0; offset < bytes.Length; offset += 100)
            {
                await stream.WriteAsync(bytes.AsMemory(offset, Math.Min(100, bytes.Length - offset)), ct);
            }
        }, Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant());
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await Emulators.DisposeAsync();
    }
}

/// <summary>A clock fixed at one instant.</summary>
public sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
