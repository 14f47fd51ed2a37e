using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using RwePortal.Application.Common;
using RwePortal.Application.Features.Consent;
using RwePortal.Application.Features.Tenancy;
using RwePortal.Application.Privacy;
using RwePortal.Application.Security;
using RwePortal.Application.Tests.Consent;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Privacy;

/// <summary>
/// A tenant's small-cell threshold through the slices, the policy handlers get, and the database itself (the portal's
/// role with a tenant set). Each test works in tenants of its own, so the demo tenants keep the default of 11.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class TenantSmallCellThresholdTests(AppFixture fixture)
{
    private string Owner => fixture.Database.OwnerConnectionString;

    private sealed record TestTenant(Guid Id, string Slug, string AdminEmail, string AnalystEmail);

    private async Task<TestTenant> NewTenantAsync()
    {
        var slug = $"sc-{Guid.NewGuid():N}"[..14];
        var id = Guid.NewGuid();
        await fixture.OwnerSqlAsync($"INSERT INTO app.tenants (id, name, slug, is_active, created_at) VALUES ('{id}', 'Tenant {slug}', '{slug}', true, now())");
        var admin = AppFixture.UniqueEmail("admin", $"{slug}.test");
        var analyst = AppFixture.UniqueEmail("analyst", $"{slug}.test");
        await fixture.CreateUserAsync(admin, id, TenantRole.TenantAdmin);
        await fixture.CreateUserAsync(analyst, id, TenantRole.Analyst);
        return new TestTenant(id, slug, admin, analyst);
    }

    private async Task<int?> StoredThresholdAsync(Guid tenantId)
    {
        await using var connection = new NpgsqlConnection(Owner);
        return await connection.ExecuteScalarAsync<int?>(
            "SELECT small_cell_threshold FROM app.tenant_settings WHERE tenant_id = @tenantId", new { tenantId });
    }

    /// <summary>A session of the portal's role with a tenant set, as the portal (or an attacker with its password) opens one.</summary>
    private async Task<NpgsqlConnection> AppSessionAsync(Guid tenantId)
    {
        var connection = new NpgsqlConnection(fixture.Database.AppConnectionString);
        await connection.OpenAsync();
        await connection.ExecuteAsync($"SET rwe.tenant_id = '{tenantId}'");
        return connection;
    }

    private async Task<SmallCellPolicy> PolicyAsync()
    {
        await using var scope = fixture.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SmallCellPolicies>().ForCurrentTenantAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_tenant_that_never_set_one_has_threshold_11_and_its_policy_hides_1_to_10()
    {
        var tenant = await NewTenantAsync();
        await fixture.SignInAsAsync(tenant.AnalystEmail);

        var setting = (await fixture.SendAsync(new GetSmallCellThreshold.Query())).Unwrap();
        var policy = await PolicyAsync();

        Assert.Equal((11, true, 5), (setting.Threshold, setting.IsDefault, setting.Minimum));
        Assert.Equal("<11", policy.Count(10, QuerySeed.Of("q")).Display);
        Assert.Equal(CellProtection.Perturbed, policy.Count(11, QuerySeed.Of("q")).Protection);
        Assert.Null(await StoredThresholdAsync(tenant.Id));
    }

    [Fact]
    public async Task The_tenant_admin_lowers_it_to_5_and_every_count_the_tenant_sees_follows_audited()
    {
        var tenant = await NewTenantAsync();
        await fixture.SignInAsAsync(tenant.AdminEmail, secondFactor: true);

        var set = (await fixture.SendAsync(new SetSmallCellThreshold.Command(5))).Unwrap();

        Assert.Equal((5, 11), (set.Threshold, set.Previous));
        Assert.Equal(5, await StoredThresholdAsync(tenant.Id));
        await fixture.SignInAsAsync(tenant.AnalystEmail);
        Assert.Equal((5, false), ((await fixture.SendAsync(new GetSmallCellThreshold.Query())).Unwrap() is var read ? (read.Threshold, read.IsDefault) : default));
        var policy = await PolicyAsync();
        Assert.Equal("<5", policy.Count(4, QuerySeed.Of("q")).Display);
        Assert.InRange(policy.Count(8, QuerySeed.Of("q")).Value!.Value, 5, 11);
        var details = await fixture.OwnerSqlRowAsync<string>(
            "SELECT details::text FROM app.audit_event WHERE tenant_id = @tenantId AND target LIKE 'SetSmallCellThreshold:%'",
            new { tenantId = tenant.Id });
        Assert.Contains("\"before\": {\"small_cell_threshold\": 11}", details, StringComparison.Ordinal);
        Assert.Contains("\"after\": {\"small_cell_threshold\": 5}", details, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(0)]
    [InlineData(-11)]
    [InlineData(101)]
    public async Task A_threshold_below_5_or_above_100_is_refused_by_the_slice(int threshold)
    {
        var tenant = await NewTenantAsync();
        await fixture.SignInAsAsync(tenant.AdminEmail, secondFactor: true);
        (await fixture.SendAsync(new SetSmallCellThreshold.Command(20))).Unwrap();

        var refused = await fixture.SendAsync(new SetSmallCellThreshold.Command(threshold));

        Assert.Equal("Validation.Failed", refused.Error!.Code);
        Assert.Contains("between 5 and 100", refused.Error.Message, StringComparison.Ordinal);
        Assert.Equal(20, await StoredThresholdAsync(tenant.Id));
    }

    [Fact]
    public async Task The_database_refuses_a_threshold_below_5_from_the_portals_role_in_its_own_tenant()
    {
        var tenant = await NewTenantAsync();
        await using var session = await AppSessionAsync(tenant.Id);

        var insert = await Assert.ThrowsAsync<PostgresException>(() => session.ExecuteAsync(
            "INSERT INTO app.tenant_settings (tenant_id, small_cell_threshold, updated_at, updated_by) VALUES (@id, 4, now(), @id)",
            new { id = tenant.Id }));
        Assert.Equal((PostgresErrorCodes.CheckViolation, "ck_tenant_settings_small_cell_threshold"), (insert.SqlState, insert.ConstraintName));

        Assert.Equal(1, await session.ExecuteAsync(
            "INSERT INTO app.tenant_settings (tenant_id, small_cell_threshold, updated_at, updated_by) VALUES (@id, 5, now(), @id)",
            new { id = tenant.Id }));
        var update = await Assert.ThrowsAsync<PostgresException>(() => session.ExecuteAsync(
            "UPDATE app.tenant_settings SET small_cell_threshold = 1 WHERE tenant_id = @id", new { id = tenant.Id }));
        Assert.Equal(PostgresErrorCodes.CheckViolation, update.SqlState);
        Assert.Equal(5, await StoredThresholdAsync(tenant.Id));
    }

    [Fact]
    public async Task Another_tenants_admin_changes_only_their_own_and_cannot_reach_this_one_even_in_SQL()
    {
        var first = await NewTenantAsync();
        var second = await NewTenantAsync();
        await fixture.SignInAsAsync(first.AdminEmail, secondFactor: true);
        (await fixture.SendAsync(new SetSmallCellThreshold.Command(20))).Unwrap();

        await fixture.SignInAsAsync(second.AdminEmail, secondFactor: true);
        (await fixture.SendAsync(new SetSmallCellThreshold.Command(7))).Unwrap();

        Assert.Equal((20, 7), (await StoredThresholdAsync(first.Id), await StoredThresholdAsync(second.Id)));
        await using var session = await AppSessionAsync(second.Id);
        var visible = (await session.QueryAsync<int>("SELECT small_cell_threshold FROM app.tenant_settings")).ToList();
        Assert.Equal(7, Assert.Single(visible));
        Assert.Equal(0, await session.ExecuteAsync(
            "UPDATE app.tenant_settings SET small_cell_threshold = 5 WHERE tenant_id = @id", new { id = first.Id }));
        Assert.Equal(0, await session.ExecuteAsync("DELETE FROM app.tenant_settings WHERE tenant_id = @id", new { id = first.Id }));
        var moved = await Assert.ThrowsAsync<PostgresException>(() => session.ExecuteAsync(
            "UPDATE app.tenant_settings SET tenant_id = @first", new { first = first.Id }));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, moved.SqlState);
        Assert.Equal((20, 7), (await StoredThresholdAsync(first.Id), await StoredThresholdAsync(second.Id)));
    }

    [Fact]
    public async Task An_analyst_reads_the_threshold_but_may_not_set_it_nor_may_an_admin_without_a_second_factor()
    {
        var tenant = await NewTenantAsync();

        await fixture.SignInAsAsync(tenant.AnalystEmail);
        var byAnalyst = await fixture.SendAsync(new SetSmallCellThreshold.Command(5));
        await fixture.SignInAsAsync(tenant.AdminEmail, secondFactor: false);
        var byPasswordOnly = await fixture.SendAsync(new SetSmallCellThreshold.Command(5));

        Assert.Equal("Auth.Forbidden", byAnalyst.Error!.Code);
        Assert.Equal("Auth.Forbidden", byPasswordOnly.Error!.Code);
        Assert.Null(await StoredThresholdAsync(tenant.Id));
    }

    [Fact]
    public async Task The_consent_summary_shows_counts_from_the_tenants_own_threshold()
    {
        var tenant = await NewTenantAsync();
        var source = "scc_" + Guid.NewGuid().ToString("N")[..10];
        await ConsentTestSources.CreateAsync(Owner, source, 20, custodianSlug: tenant.Slug);
        for (var person = 1; person <= 8; person++)
        {
            await ConsentTestSources.AddConsentAsync(Owner, source, person, "research", "granted", "2024-01-01");
        }

        await fixture.SignInAsAsync(tenant.AdminEmail, secondFactor: true);
        var beforeSummary = (await fixture.SendAsync(new GetConsentSummary.Query(source))).Unwrap();
        (await fixture.SendAsync(new SetSmallCellThreshold.Command(5))).Unwrap();
        var afterSummary = (await fixture.SendAsync(new GetConsentSummary.Query(source))).Unwrap();
        var (before, after) = (beforeSummary.Purposes.Single(p => p.Purpose == "research"), afterSummary.Purposes.Single(p => p.Purpose == "research"));

        // 8 of 20 consent, 12 are excluded: under 11 the 8 is hidden and so is its complement; under 5 both show.
        Assert.Equal(("<11", "—"), (before.Consented.Display, before.Excluded.Display));
        Assert.Equal(((long?)8, (long?)12), (after.Consented.Value, after.Excluded.Value));
        Assert.Equal((11, 5), (beforeSummary.SmallCellThreshold, afterSummary.SmallCellThreshold));
    }
}
