using Npgsql;

namespace RwePortal.Application.Audit;

/// <summary>
/// Connections to the app database as the portal's role, for the governance code that works in plain SQL
/// (the audit trail, the consent registry) with Dapper. One data source (one pool) per application.
/// </summary>
public sealed class AppSqlConnections(NpgsqlDataSource dataSource) : IAsyncDisposable, IDisposable
{
    /// <summary>Seconds a governance statement may run; imports and chain walks pass their own.</summary>
    public const int CommandTimeoutSeconds = 30;

    public static AppSqlConnections Create(string connectionString) => new(NpgsqlDataSource.Create(connectionString));

    public ValueTask<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken) =>
        dataSource.OpenConnectionAsync(cancellationToken);

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();

    public void Dispose() => dataSource.Dispose();
}
