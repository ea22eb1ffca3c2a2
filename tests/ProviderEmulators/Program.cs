using ObjectaLabs.Orleans.ProviderEmulators;

// Standalone: dotnet run --project tests/ProviderEmulators -- --openai-port 5585 --together-port 5586 [--tick-ms 1000]
var options = EmulatorOptions.FromArgs(args);
await using var host = await ProviderEmulatorHost.StartAsync(options);
Console.WriteLine($"OpenAI emulator    {host.OpenAiBaseUrl}");
Console.WriteLine($"Together emulator  {host.TogetherBaseUrl}");
Console.WriteLine("Faults: POST /_control/faults on either port; Ctrl-C stops.");
var stopped = new TaskCompletionSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stopped.TrySetResult();
};
AppDomain.CurrentDomain.ProcessExit += (_, _) => stopped.TrySetResult();
await stopped.Task;
