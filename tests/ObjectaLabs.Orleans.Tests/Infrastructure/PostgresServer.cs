using ObjectaLabs.Orleans.Testing;

namespace ObjectaLabs.Orleans.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server the tests share: the one named by <c>OBJECTALABS_TEST_POSTGRES</c> (an admin
/// connection string whose user may create databases), or else a <see cref="LocalPostgres"/> that this
/// process starts through <c>./run postgres</c> and stops when the test run ends.
/// </summary>
public static class PostgresServer
{
    public const string EnvironmentVariable = "OBJECTALABS_TEST_POSTGRES";
    private static readonly Lazy<string> Admin = new(StartOrFind, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>A connection string to the server's <c>postgres</c> database with rights to create databases.</summary>
    public static string AdminConnectionString => Admin.Value;

    public static string RepositoryRoot => LocalPostgres.RepositoryRoot;

    public static int FreePort() => LocalPostgres.FreePort();

    private static string StartOrFind()
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } configured)
        {
            return configured;
        }
        var server = LocalPostgres.Start("test");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Dispose();
        return server.AdminConnectionString;
    }
}
