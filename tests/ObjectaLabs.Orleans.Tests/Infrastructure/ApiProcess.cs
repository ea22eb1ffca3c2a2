using System.Collections.Concurrent;
using System.Diagnostics;
using ObjectaLabs.Orleans.Hosting;

namespace ObjectaLabs.Orleans.Tests.Infrastructure;

/// <summary>
/// The production API (the built <c>Client.Api</c> binary) as a separate operating-system process on the test cluster:
/// its own runtime, memory and Orleans client, as a second API machine would be.
/// </summary>
public sealed class ApiProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ApiProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }

    /// <summary>The last lines the API printed, for failure messages.</summary>
    public string RecentOutput => string.Join('\n', _output.TakeLast(40));

    /// <summary>Starts the API on a free loopback port and waits until it answers <c>/health/live</c>.</summary>
    public static async Task<ApiProcess> StartAsync(string connectionString, string platformKey)
    {
        var dll = SiloProcess.BuiltDll("Client.Api", "ObjectaLabs.Orleans.Client.Api.dll");
        var address = new Uri($"http://127.0.0.1:{PostgresServer.FreePort()}");
        var info = new ProcessStartInfo("dotnet", $"\"{dll}\"")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        info.Environment[$"ConnectionStrings__{ClusterSettings.ConnectionStringName}"] = connectionString;
        info.Environment["Platform__AdminKey"] = platformKey;
        info.Environment["Urls"] = address.ToString();
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["Logging__Console__FormatterName"] = "simple";
        var api = new ApiProcess(Process.Start(info)!, address);
        SiloProcess.KeepOutput(api._process, api._output);
        using var probe = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(2) };
        await Eventually.Async(async () => (await probe.GetAsync("/health/live")).IsSuccessStatusCode, TimeSpan.FromSeconds(60),
            "the API process starts", tolerateErrors: true);
        return api;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        _process.Dispose();
    }
}
