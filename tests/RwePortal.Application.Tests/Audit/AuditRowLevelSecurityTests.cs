using Dapper;
using Npgsql;
using RwePortal.Application.Audit;

namespace RwePortal.Application.Tests.Audit;

/// <summary>
/// Row-level security on app.audit_event, attacked with raw SQL as the portal's role: a session bound to one tenant
/// sees that tenant's events and nothing else, whatever else it sets; only the owner sees every row.
/// </summary>
public sealed class AuditRowLevelSecurityTests(AuditDatabase audit) : IClassFixture<AuditDatabase>
{
    private readonly Guid _tenantA = Guid.NewGuid();
    private readonly Guid _tenantB = Guid.NewGuid();

    private async Task ArrangeAsync()
    {
        // Appended as the portal's role, through the function: appends keep working under RLS.
        await using var app = new NpgsqlConnection(audit.Database.AppConnectionString);
        await app.OpenAsync();
        foreach (var tenant in new Guid?[] { _tenantA, _tenantB, null })
        {
            await AuditLog.AppendAsync(
                app, null, new AuditActor(tenant, null, "someone@example.test"), new AuditRecord(AuditEventTypes.SignIn, "account", "Success"), CancellationToken.None);
        }
    }

    private async Task<NpgsqlConnection> AppBoundToAsync(Guid? tenant)
    {
        var app = new NpgsqlConnection(audit.Database.AppConnectionString);
        await app.OpenAsync();
        await app.ExecuteAsync("SELECT set_config('rwe.tenant_id', @tenant, false)", new { tenant = tenant?.ToString() ?? "" });
        return app;
    }

    [Fact]
    public async Task The_table_has_row_level_security_enabled_and_forced()
    {
        await using var owner = new NpgsqlConnection(audit.Database.OwnerConnectionString);

        var (enabled, forced) = await owner.QuerySingleAsync<(bool, bool)>(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'app.audit_event'::regclass");

        Assert.True(enabled);
        Assert.True(forced);
    }

    [Fact]
    public async Task The_app_role_bound_to_tenant_a_sees_no_event_of_tenant_b_or_without_a_tenant()
    {
        await ArrangeAsync();
        await using var app = await AppBoundToAsync(_tenantA);

        var tenants = (await app.QueryAsync<Guid?>("SELECT DISTINCT tenant_id FROM app.audit_event")).ToList();
        var throughTheFunction = await app.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM app.find_audit_events(NULL, NULL, NULL, NULL, NULL, NULL, 1000, 0) WHERE tenant_id IS DISTINCT FROM @a",
            new { a = _tenantA });

        Assert.Equal([_tenantA], tenants);
        Assert.Equal(0, throughTheFunction);
        await using var owner = new NpgsqlConnection(audit.Database.OwnerConnectionString);
        Assert.True(await owner.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM app.audit_event WHERE tenant_id = @b OR tenant_id IS NULL", new { b = _tenantB }) >= 2);
    }

    [Fact]
    public async Task No_setting_the_app_role_can_issue_shows_it_every_tenant()
    {
        await ArrangeAsync();
        await using var app = await AppBoundToAsync(_tenantA);

        await app.ExecuteAsync("SELECT set_config('rwe.cross_tenant', 'on', false)");
        await app.ExecuteAsync("SET row_security = on");
        var seen = await app.ExecuteScalarAsync<long>("SELECT count(*) FROM app.audit_event WHERE tenant_id IS DISTINCT FROM @a", new { a = _tenantA });
        var bypass = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await app.ExecuteAsync("SET row_security = off");
            await app.ExecuteScalarAsync<long>("SELECT count(*) FROM app.audit_event");
        });

        Assert.Equal(0, seen);
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, bypass.SqlState);
    }

    [Fact]
    public async Task The_app_role_bound_to_no_tenant_sees_no_event()
    {
        await ArrangeAsync();
        await using var app = await AppBoundToAsync(null);

        Assert.Equal(0, await app.ExecuteScalarAsync<long>("SELECT count(*) FROM app.audit_event"));
    }
}
