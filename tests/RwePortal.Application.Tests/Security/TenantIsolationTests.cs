using Microsoft.EntityFrameworkCore;
using Npgsql;
using RwePortal.Application.Data;
using RwePortal.Application.Tenancy;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Security;

/// <summary>
/// Tenant isolation, both walls: EF Core's query filters on the context, and PostgreSQL row-level security for the
/// portal's role (rwe_app) when queried with raw SQL, for every tenant-owned table of the model.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class TenantIsolationTests(AppFixture fixture) : IAsyncLifetime
{
    private Guid _acme;
    private Guid _northwind;

    public async Task InitializeAsync()
    {
        _acme = await fixture.TenantIdAsync("acme");
        _northwind = await fixture.TenantIdAsync("northwind");

        // One row per tenant in every tenant-owned table.
        var source = await fixture.AddDataSourceAsync();
        await using var db = await fixture.CreateCrossTenantDbContextAsync();
        foreach (var tenant in new[] { _acme, _northwind })
        {
            db.DataSourceGrants.Add(new TenantDataSourceGrant { TenantId = tenant, DataSourceId = source, Purposes = [DataPurposes.Research] });
        }

        await db.SaveChangesAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public static TheoryData<string> TenantOwnedTables()
    {
        var data = new TheoryData<string>();
        foreach (var table in TenantOwnedTableNames())
        {
            data.Add(table);
        }

        return data;
    }

    [Fact]
    public void The_model_has_tenant_owned_tables_to_check() => Assert.NotEmpty(TenantOwnedTableNames());

    [Fact]
    public void Every_entity_with_a_tenant_id_is_tenant_owned_except_memberships()
    {
        using var db = new AppDbContext(new DbContextOptionsBuilder<AppDbContext>().UseNpgsql("Host=unused").UseSnakeCaseNamingConvention().Options);
        var untagged = db.Model.GetEntityTypes()
            .Where(type => type.FindProperty(nameof(ITenantOwned.TenantId)) is not null)
            .Where(type => !typeof(ITenantOwned).IsAssignableFrom(type.ClrType))
            .Select(type => type.ClrType)
            .ToList();

        // A membership links a person (who spans tenants) to a tenant: handlers filter memberships by the current tenant.
        Assert.Equal([typeof(TenantMembership)], untagged);
    }

    [Fact]
    public async Task A_context_bound_to_a_tenant_sees_only_that_tenants_rows()
    {
        await using var acme = await fixture.CreateDbContextAsync(_acme);

        var tenants = await acme.DataSourceGrants.Select(g => g.TenantId).Distinct().ToListAsync();

        Assert.Equal([_acme], tenants);
    }

    [Fact]
    public async Task A_context_bound_to_no_tenant_sees_no_tenant_owned_rows()
    {
        await using var unbound = await fixture.CreateDbContextAsync();

        Assert.Equal(0, await unbound.DataSourceGrants.CountAsync());

        // Even with EF Core's filter switched off, PostgreSQL shows nothing to a session without a tenant.
        Assert.Equal(0, await unbound.DataSourceGrants.IgnoreQueryFilters().CountAsync());
    }

    [Fact]
    public async Task Row_level_security_holds_when_the_EF_filter_is_ignored()
    {
        await using var acme = await fixture.CreateDbContextAsync(_acme);

        var tenants = await acme.DataSourceGrants.IgnoreQueryFilters().Select(g => g.TenantId).Distinct().ToListAsync();

        Assert.Equal([_acme], tenants);
    }

    [Fact]
    public async Task A_pooled_connection_never_carries_the_previous_contexts_tenant()
    {
        for (var round = 0; round < 3; round++)
        {
            await using (var acme = await fixture.CreateDbContextAsync(_acme))
            {
                Assert.All(await acme.DataSourceGrants.IgnoreQueryFilters().ToListAsync(), g => Assert.Equal(_acme, g.TenantId));
            }

            await using (var northwind = await fixture.CreateDbContextAsync(_northwind))
            {
                Assert.All(await northwind.DataSourceGrants.IgnoreQueryFilters().ToListAsync(), g => Assert.Equal(_northwind, g.TenantId));
            }

            await using var unbound = await fixture.CreateDbContextAsync();
            Assert.Equal(0, await unbound.DataSourceGrants.IgnoreQueryFilters().CountAsync());
        }
    }

    [Fact]
    public async Task A_context_cannot_be_rebound_to_another_tenant()
    {
        await using var acme = await fixture.CreateDbContextAsync(_acme);

        Assert.Throws<InvalidOperationException>(() => acme.BindTo(TenantScope.For(_northwind)));
    }

    [Theory]
    [MemberData(nameof(TenantOwnedTables))]
    public async Task Row_level_security_is_enabled_and_forced(string table)
    {
        await using var connection = await OpenAsAppAsync(tenant: null);
        await using var command = new NpgsqlCommand(
            "SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = ('app.' || @table)::regclass", connection);
        command.Parameters.AddWithValue("table", table);

        Assert.True((bool)(await command.ExecuteScalarAsync())!);
    }

    [Theory]
    [MemberData(nameof(TenantOwnedTables))]
    public async Task Raw_SQL_as_the_app_role_with_tenant_A_set_returns_none_of_tenant_Bs_rows(string table)
    {
        await using var connection = await OpenAsAppAsync(_acme);

        var tenants = await TenantIdsAsync(connection, table);

        Assert.Contains(_acme, tenants);
        Assert.DoesNotContain(_northwind, tenants);
    }

    [Theory]
    [MemberData(nameof(TenantOwnedTables))]
    public async Task Raw_SQL_as_the_app_role_without_a_tenant_returns_no_rows(string table)
    {
        await using var connection = await OpenAsAppAsync(tenant: null);

        Assert.Empty(await TenantIdsAsync(connection, table));
    }

    [Fact]
    public async Task The_app_role_cannot_write_a_row_for_another_tenant()
    {
        var source = await fixture.AddDataSourceAsync();
        await using var connection = await OpenAsAppAsync(_acme);
        await using var command = new NpgsqlCommand(
            "INSERT INTO app.tenant_data_source_grants (id, tenant_id, data_source_id, purposes, granted_at, granted_by) " +
            "VALUES (gen_random_uuid(), @tenant, @source, '{research}', now(), gen_random_uuid())",
            connection);
        command.Parameters.AddWithValue("tenant", _northwind);
        command.Parameters.AddWithValue("source", source);

        var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());

        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
    }

    [Fact]
    public async Task The_app_role_is_not_an_owner_and_cannot_bypass_row_level_security()
    {
        await using var connection = await OpenAsAppAsync(tenant: null);
        await using var command = new NpgsqlCommand(
            "SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = current_user", connection);

        Assert.False((bool)(await command.ExecuteScalarAsync())!);
    }

    private static List<string> TenantOwnedTableNames()
    {
        using var db = new AppDbContext(new DbContextOptionsBuilder<AppDbContext>().UseNpgsql("Host=unused").UseSnakeCaseNamingConvention().Options);
        return db.Model.GetEntityTypes()
            .Where(type => typeof(ITenantOwned).IsAssignableFrom(type.ClrType))
            .Select(type => type.GetTableName()!)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private async Task<NpgsqlConnection> OpenAsAppAsync(Guid? tenant)
    {
        // A fresh physical connection: nothing left over from a pool.
        var builder = new NpgsqlConnectionStringBuilder(fixture.Database.AppConnectionString) { Pooling = false };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        if (tenant is not null)
        {
            await using var set = new NpgsqlCommand("SELECT set_config('rwe.tenant_id', @tenant, false)", connection);
            set.Parameters.AddWithValue("tenant", tenant.Value.ToString());
            await set.ExecuteNonQueryAsync();
        }

        return connection;
    }

    private static async Task<List<Guid>> TenantIdsAsync(NpgsqlConnection connection, string table)
    {
        // The table name comes from the EF model, never from input; quote it all the same.
        await using var command = new NpgsqlCommand($"SELECT DISTINCT tenant_id FROM app.\"{table}\"", connection);
        var tenants = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            tenants.Add(reader.GetGuid(0));
        }

        return tenants;
    }
}
