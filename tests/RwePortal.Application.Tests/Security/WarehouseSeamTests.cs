using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using RwePortal.Application.Tests.Infrastructure;
using RwePortal.Warehouse;

namespace RwePortal.Application.Tests.Security;

/// <summary>The warehouse read seam: one service, the read-only role, no writes and no app data through it.</summary>
[Collection(AppCollection.Name)]
public sealed class WarehouseSeamTests(AppFixture fixture)
{
    [Fact]
    public async Task Warehouse_connections_are_the_reader_role_in_read_only_sessions()
    {
        var warehouse = fixture.Services.GetRequiredService<WarehouseConnections>();
        await using var connection = await warehouse.OpenAsync(CancellationToken.None);

        Assert.Equal("rwe_reader", await connection.ExecuteScalarAsync<string>("SELECT current_user"));
        Assert.Equal("on", await connection.ExecuteScalarAsync<string>("SHOW default_transaction_read_only"));
        var write = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync("CREATE TEMP TABLE t (x int)"));
        Assert.Equal(PostgresErrorCodes.ReadOnlySqlTransaction, write.SqlState);
    }

    [Fact]
    public async Task The_reader_role_reads_no_app_table()
    {
        await using var connection = await fixture.Services.GetRequiredService<WarehouseConnections>().OpenAsync(CancellationToken.None);

        foreach (var table in new[] { "app.tenants", "app.\"AspNetUsers\"", "app.tenant_memberships", "app.audit_event" })
        {
            var error = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteScalarAsync<long>($"SELECT count(*) FROM {table}"));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
        }
    }
}
