using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
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
        var formatter = Choose(configuration["Logging:Console:FormatterName"], Console.IsOutputRedirected);
        // One AddConsole naming the formatter; the formatters' own options are configured, not added: each of
        // AddSimpleConsole and AddJsonConsole also names itself the formatter, and the last one called would win.
        logging.AddConsole(o => o.FormatterName = formatter);
        logging.Services.Configure<SimpleConsoleFormatterOptions>(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
            o.IncludeScopes = false;
        });
        logging.Services.Configure<JsonConsoleFormatterOptions>(o =>
        {
            o.IncludeScopes = true;
            o.TimestampFormat = "O";
            o.UseUtcTimestamp = true;
        });
    }

    /// <summary>The configured formatter if any; else short lines on a terminal and JSON when the output is redirected.</summary>
    public static string Choose(string? configured, bool outputRedirected) =>
        !string.IsNullOrWhiteSpace(configured) ? configured.Trim()
        : outputRedirected ? ConsoleFormatterNames.Json
        : ConsoleFormatterNames.Simple;
}
