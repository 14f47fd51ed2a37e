using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace RwePortal.Application.Data;

/// <summary>
/// Tells PostgreSQL which tenant the opening context works for, on every connection open: row-level security
/// (db/app/rls.sql) reads <c>rwe.tenant_id</c>. Pooled connections keep session settings, so it is always set, to
/// empty when the context is bound to no tenant.
/// </summary>
internal sealed class TenantSessionInterceptor : DbConnectionInterceptor
{
    public const string TenantSetting = "rwe.tenant_id";

    public static TenantSessionInterceptor Instance { get; } = new();

    private const string Sql = $"SELECT set_config('{TenantSetting}', @tenant, false)";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = CreateCommand(connection, eventData);
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(
        DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = CreateCommand(connection, eventData);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static DbCommand CreateCommand(DbConnection connection, ConnectionEndEventData eventData)
    {
        var scope = (eventData.Context as AppDbContext)?.Scope ?? TenantScope.None;
        var command = connection.CreateCommand();
        command.CommandText = Sql;
        AddParameter(command, "tenant", scope.TenantId?.ToString() ?? "");
        return command;
    }

    private static void AddParameter(DbCommand command, string name, string value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
