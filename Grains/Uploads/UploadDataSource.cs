using Microsoft.Extensions.Options;
using Npgsql;

namespace ObjectaLabs.Orleans.Uploads;

/// <summary>
/// The connection pool uploads use, apart from the silo's main pool: an upload holds one connection
/// for its whole duration, so a burst of uploads must not starve every other query. It is bounded
/// (<see cref="UploadSettings.MaxConnections"/>), waits only <see cref="UploadSettings.ConnectionWait"/>
/// for a free connection, and tells the server to end any transaction left idle for longer than the
/// upload idle timeout (<c>idle_in_transaction_session_timeout</c>), so no upload outlives a silo
/// that forgot it.
/// </summary>
public sealed class UploadDataSource : IAsyncDisposable
{
    public UploadDataSource(string connectionString, IOptions<UploadSettings> settings)
    {
        var s = settings.Value;
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            MaxPoolSize = s.MaxConnections,
            MinPoolSize = 0,
            Timeout = (int)Math.Ceiling(s.ConnectionWait.TotalSeconds),
            ApplicationName = "objectalabs-uploads",
        };
        // temp_buffers: an upload's staging table stays in memory up to this size instead of spilling to temporary files.
        var idle = $"-c idle_in_transaction_session_timeout={(long)s.IdleTimeout.TotalMilliseconds} -c temp_buffers=64MB";
        builder.Options = string.IsNullOrWhiteSpace(builder.Options) ? idle : $"{builder.Options} {idle}";
        DataSource = new NpgsqlDataSourceBuilder(builder.ConnectionString) { Name = "objectalabs-uploads" }.Build();
    }

    public NpgsqlDataSource DataSource { get; }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
