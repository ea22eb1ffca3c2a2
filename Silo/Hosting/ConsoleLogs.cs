using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace ObjectaLabs.Orleans.Hosting;

/// <summary>
/// Console logs for people and for machines, shared by the silo and the API (the API links this file). On a terminal:
/// one short line per entry; otherwise, or when <c>Logging:Console:FormatterName</c> says so, one JSON object per line.
/// Which entries appear is the <c>Logging:LogLevel</c> configuration's business (appsettings: warnings and our own lines).
/// </summary>
internal static class ConsoleLogs
{
    public static void Configure(ILoggingBuilder logging, IConfiguration configuration)
    {
        var configured = configuration["Logging:Console:FormatterName"];
        var formatter = string.IsNullOrWhiteSpace(configured)
            ? Console.IsOutputRedirected ? ConsoleFormatterNames.Json : ConsoleFormatterNames.Simple
            : configured;
        logging.AddConsole(o => o.FormatterName = formatter);
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
            o.IncludeScopes = false;
        });
        logging.AddJsonConsole(o =>
        {
            o.IncludeScopes = true;
            o.TimestampFormat = "O";
            o.UseUtcTimestamp = true;
        });
    }
}
