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
    private static readonly string[] EscapeAttempts = ["SET rwe.cross_tenant = 'on'", "SET row_security = off", "RESET ROLE"];

    private Guid _acme;
    private Guid _northwind;

    public async Task InitializeAsync()
    {
        _acme = await fixture.TenantIdAsync("acme");
        _northwind = await fixture.TenantIdAsync("northwind");

        // One row per tenant in every tenant-owned table (the demo seed holds memberships of both).
        var source = await fixture.AddDataSourceAsync();
        foreach (var tenant in new[] { _acme, _northwind })
        {
            await using var db = await fixture.CreateDbContextAsync(tenant);
            db.DataSourceGrants.Add(new TenantDataSourceGrant { TenantId = tenant, DataSourceId = source, Purposes = [DataPurposes.Research] });
            await db.SaveChangesAsync();
        }

        await using var owner = new NpgsqlConnection(fixture.Database.OwnerConnectionString);
        await owner.OpenAsync();
        foreach (var tenant in new[] { _acme, _northwind })
        {
            await using var append = new NpgsqlCommand(
                "SELECT app.append_audit_event(@tenant, NULL, 'isolation@test', 'Command', 'isolation test', 'Success', '{}')", owner);
            append.Parameters.AddWithValue("tenant", tenant);
            await append.ExecuteScalarAsync();

            // Settings at the default value, so the demo tenants' counts stay as other tests expect them.
            await using var settings = new NpgsqlCommand(
                "INSERT INTO app.tenant_settings (tenant_id, small_cell_threshold, updated_at, updated_by) VALUES (@tenant, 11, now(), @tenant) " +
                "ON CONFLICT (tenant_id) DO NOTHING", owner);
            settings.Parameters.AddWithValue("tenant", tenant);
            await settings.ExecuteNonQueryAsync();

            // A saved subgroup and a concept set, each with a revision (the library's tables).
            await using var library = new NpgsqlCommand(
                """
                WITH s AS (INSERT INTO app.saved_subgroups (id, tenant_id, owner_id, name, visibility, revision, created_at, updated_at, referenced_subgroups, referenced_concept_sets)
                           VALUES (gen_random_uuid(), @tenant, @tenant, 'isolation', 'Tenant', 1, now(), now(), '{}', '{}') RETURNING id),
                     c AS (INSERT INTO app.saved_concept_sets (id, tenant_id, owner_id, name, visibility, revision, created_at, updated_at)
                           VALUES (gen_random_uuid(), @tenant, @tenant, 'isolation', 'Tenant', 1, now(), now()) RETURNING id),
                     sr AS (INSERT INTO app.saved_subgroup_revisions (id, tenant_id, subgroup_id, revision, name, visibility, definition, vocabulary_version, author_id, saved_at)
                            SELECT gen_random_uuid(), @tenant, s.id, 1, 'isolation', 'Tenant', '{"version": 1, "criteria": []}', 'unknown', @tenant, now() FROM s)
                INSERT INTO app.saved_concept_set_revisions (id, tenant_id, concept_set_id, revision, name, visibility, items, vocabulary_version, author_id, saved_at)
                SELECT gen_random_uuid(), @tenant, c.id, 1, 'isolation', 'Tenant', '[{"conceptId": 1, "descendants": true, "exclude": false}]', 'unknown', @tenant, now() FROM c
                """, owner);
            library.Parameters.AddWithValue("tenant", tenant);
            await library.ExecuteNonQueryAsync();
            await Features.Protocols.ProtocolScenario.SeedRowsAsOwnerAsync(fixture, tenant);

            // An analysis run of that protocol's approved version (the run table is SQL-owned: db/app/analyses.sql).
            await using var run = new NpgsqlCommand(
                """
                INSERT INTO app.analysis_runs (id, tenant_id, protocol_id, protocol_version_id, protocol_version, protocol_hash,
                    protocol_title, data_source_id, source, purpose, seed, requested_by, status)
                SELECT gen_random_uuid(), @tenant, v.protocol_id, v.id, v.version, v.content_hash, 'isolation', gen_random_uuid(),
                    'isolation', 'research', 1, @tenant, 'queued'
                FROM app.protocol_versions v WHERE v.tenant_id = @tenant AND v.state = 'Approved' LIMIT 1
                """, owner);
            run.Parameters.AddWithValue("tenant", tenant);
            await run.ExecuteNonQueryAsync();
        }
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
    public void Every_entity_with_a_tenant_id_is_tenant_owned()
    {
        using var db = new AppDbContext(new DbContextOptionsBuilder<AppDbContext>().UseNpgsql("Host=unused").UseSnakeCaseNamingConvention().Options);
        var untagged = db.Model.GetEntityTypes()
            .Where(type => type.FindProperty(nameof(ITenantOwned.TenantId)) is not null)
            .Where(type => !typeof(ITenantOwned).IsAssignableFrom(type.ClrType))
            .Select(type => type.ClrType)
            .ToList();

        Assert.Empty(untagged);
    }

    [Fact]
    public async Task Every_table_with_a_tenant_column_has_forced_row_level_security_with_a_policy_for_the_app_role()
    {
        // Enumerated from the database, not the model: a table added by SQL or a later migration is checked too.
        // Columns that name a tenant without the row belonging to it are listed here with their reason.
        string[] notTenantRows =
        [
            "app.AspNetUsers.current_tenant_id", // the tenant a person last chose; a person spans tenants
            "app.data_sources.custodian_tenant_id", // the platform-wide source registry names its custodian
        ];
        await using var connection = new NpgsqlConnection(fixture.Database.OwnerConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT n.nspname || '.' || c.relname AS table_name, a.attname AS column_name,
                   c.relrowsecurity AND c.relforcerowsecurity AS forced,
                   EXISTS (SELECT 1 FROM pg_policy p
                           WHERE p.polrelid = c.oid
                             AND 'rwe_app'::regrole = ANY (p.polroles)
                             AND pg_get_expr(p.polqual, p.polrelid) LIKE '%current_tenant_id()%') AS app_policy,
                   EXISTS (SELECT 1 FROM pg_policy p
                           WHERE p.polrelid = c.oid AND 0::oid = ANY (p.polroles)) AS public_policy
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p')
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE a.attname LIKE '%tenant_id' AND NOT a.attisdropped AND a.attnum > 0
              AND n.nspname NOT IN ('pg_catalog', 'information_schema')
            ORDER BY 1, 2
            """,
            connection);
        var checkedTables = new List<string>();
        var problems = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                var (table, column) = (reader.GetString(0), reader.GetString(1));
                if (notTenantRows.Contains($"{table}.{column}"))
                {
                    continue;
                }

                checkedTables.Add(table);
                if (!reader.GetBoolean(2) || !reader.GetBoolean(3) || reader.GetBoolean(4))
                {
                    problems.Add($"{table}.{column}: forced={reader.GetBoolean(2)} app policy={reader.GetBoolean(3)} policy for PUBLIC={reader.GetBoolean(4)}");
                }
            }
        }

        Assert.Empty(problems);
        Assert.Contains("app.tenant_memberships", checkedTables);
        Assert.Contains("app.audit_event", checkedTables);
        Assert.Contains("app.tenant_data_source_grants", checkedTables);
    }

    [Theory]
    [MemberData(nameof(TenantOwnedTables))]
    public async Task No_setting_the_app_role_can_issue_shows_another_tenants_rows(string table)
    {
        foreach (var escape in EscapeAttempts)
        {
            await using var connection = await OpenAsAppAsync(_acme);
            try
            {
                await using var set = new NpgsqlCommand(escape, connection);
                await set.ExecuteNonQueryAsync();
                Assert.DoesNotContain(_northwind, await TenantIdsAsync(connection, table));
            }
            catch (PostgresException refused) when (refused.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                // Refused outright: with row_security off, a query that a policy would filter errors instead.
            }
        }
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

    private static List<string> TenantOwnedTableNames() =>
        // Every tenant-owned table of the app schema: the model's ITenantOwned entities and the SQL-owned audit trail and runs.
        ModelTables().Append("audit_event").Append("analysis_runs").Distinct().Order(StringComparer.Ordinal).ToList();

    private static List<string> ModelTables()
    {
        using var db = new AppDbContext(new DbContextOptionsBuilder<AppDbContext>().UseNpgsql("Host=unused").UseSnakeCaseNamingConvention().Options);
        return db.Model.GetEntityTypes()
            .Where(type => typeof(ITenantOwned).IsAssignableFrom(type.ClrType))
            .Select(type => type.GetTableName()!)
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
            // Platform events (tenant_id NULL) are nobody's tenant rows; a tenant session must not see them either.
            tenants.Add(reader.IsDBNull(0) ? Guid.Empty : reader.GetGuid(0));
        }

        return tenants;
    }
}
