using System.Net.Sockets;
using Npgsql;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;
using Orleans.Serialization;

namespace ObjectaLabs.Orleans.Api.Problems;

/// <summary>
/// Recognizes failures that say "the database or the cluster cannot be reached right now", however they arrive: thrown
/// here (health checks, the Orleans client's gateway connection) or thrown in a grain and carried back through the
/// cluster, wrapped or not. Those are 503 with <c>Retry-After</c>, not 500: the request was fine and may be retried.
/// </summary>
public static class ServiceUnavailable
{
    public const int RetryAfterSeconds = 5;

    // Exceptions thrown in a grain whose type cannot be rebuilt here arrive as a fallback that keeps the type name.
    private static readonly string[] UnavailableTypeNames =
    [
        typeof(NpgsqlException).FullName!,
        typeof(PostgresException).FullName!,
        typeof(SocketException).FullName!,
        "Orleans.Runtime.Messaging.ConnectionFailedException",
    ];

    public static bool Is(Exception exception)
    {
        for (var depth = 0; depth < 16 && exception is not null; depth++)
        {
            switch (exception)
            {
                case PostgresException postgres:
                    // A server answer (constraint, syntax) is a real error; only "server unavailable" classes count.
                    // Carried from a silo, only the message survives ("57P01: terminating connection …").
                    return IsUnavailableSqlState(postgres.SqlState ?? StateInMessage(postgres.Message));
                case NpgsqlException or SocketException or TimeoutException:
                case SiloUnavailableException or OrleansMessageRejectionException or ConnectionFailedException:
                case GatewayTooBusyException or ClientNotAvailableException:
                    return true;
                case UnavailableExceptionFallbackException fallback when UnavailableTypeNames.Contains(fallback.ExceptionType):
                    return true;
                case AggregateException { InnerExceptions.Count: > 0 } aggregate when aggregate.InnerExceptions.Any(Is):
                    return true;
            }
            exception = exception.InnerException!;
        }
        return false;
    }

    private static string StateInMessage(string? message) =>
        message is { Length: > 6 } && message[5] == ':' ? message[..5] : "";

    // 08: connection exceptions; 53: insufficient resources; 57P0x: admin/crash shutdown, cannot connect now.
    private static bool IsUnavailableSqlState(string state) =>
        state.StartsWith("08", StringComparison.Ordinal) || state.StartsWith("53", StringComparison.Ordinal)
        || state is "57P01" or "57P02" or "57P03";
}
