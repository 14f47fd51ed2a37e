using Npgsql;

namespace RwePortal.Warehouse;

/// <summary>
/// The warehouse read seam: every read of the <c>cdm_*</c> schemas by the portal and the workers goes through
/// connections of this one service, as the read-only warehouse role (<c>rwe_reader</c>: SELECT on each registered
/// source's tables, granted when the source is registered; EXECUTE on the consent filter; nothing on raw consent
/// rows or on the app schema). It has its own connection string (<c>ConnectionStrings:Warehouse</c>), so the warehouse
/// may live on another server. Sessions are read-only on top of the role's grants.
/// </summary>
public sealed class WarehouseConnections : IAsyncDisposable, IDisposable
{
    /// <summary>Seconds a warehouse statement may run unless its caller passes its own.</summary>
    public const int CommandTimeoutSeconds = 60;

    private readonly NpgsqlDataSource _dataSource;

    private WarehouseConnections(NpgsqlDataSource dataSource) => _dataSource = dataSource;

    public static WarehouseConnections Create(string readerConnectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(readerConnectionString)
        {
            // Belt and braces: even a role granted more by mistake cannot write through this seam.
            Options = "-c default_transaction_read_only=on",
            ApplicationName = "rweportal-warehouse",
        };
        return new WarehouseConnections(NpgsqlDataSource.Create(builder.ConnectionString));
    }

    public ValueTask<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken) =>
        _dataSource.OpenConnectionAsync(cancellationToken);

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    public void Dispose() => _dataSource.Dispose();
}
