using System.Globalization;
using Dapper;
using Npgsql;
using RwePortal.E2E.Tests.Infrastructure;
using RwePortal.E2E.Tests.Pages;
using RwePortal.Warehouse.Sources;
using static Microsoft.Playwright.Assertions;

namespace RwePortal.E2E.Tests.Features.Consent;

/// <summary>
/// The consent registry in the real portal: a source held by Northwind Hospital (its custodian) and granted to Acme
/// Pharma for research. Both TenantAdmins sign in with the demo second factor.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class ConsentWithdrawalTests(PortalFixture portal) : IAsyncLifetime
{
    // Sorts first among registered sources, so the page opens on it.
    private const string Source = "a_consent_e2e";
    private const int Persons = 30;
    private const int Granted = 15;

    public async Task InitializeAsync()
    {
        await using var dataSource = NpgsqlDataSource.Create(portal.Database.OwnerConnectionString);
        var registry = new DataSourceRegistry(dataSource);
        if (await registry.FindAsync(Source, CancellationToken.None) is not null)
        {
            return;
        }

        await using var connection = await dataSource.OpenConnectionAsync();
        var northwind = await connection.ExecuteScalarAsync<Guid>("SELECT id FROM app.tenants WHERE slug = 'northwind'");
        var acme = await connection.ExecuteScalarAsync<Guid>("SELECT id FROM app.tenants WHERE slug = 'acme'");
        await registry.AddAsync(Source, "Consent E2E source", northwind, CancellationToken.None);
        await connection.ExecuteAsync(
            $"""
            INSERT INTO cdm_{Source}.person (person_id, gender_concept_id, year_of_birth, race_concept_id, ethnicity_concept_id, person_source_value)
            SELECT g, 8532, 1970, 0, 0, 'E2E' || g FROM generate_series(1, @persons) g;
            INSERT INTO gov.consent (source, person_id, purpose, status, effective_from, recorded_by)
            SELECT @source, g, 'research', 'granted', DATE '2024-01-01', 'e2e setup' FROM generate_series(1, @granted) g;
            """,
            new { persons = Persons, granted = Granted, source = Source });
        // Acme may use the source for research (grants are row-level secured for the owner too: work as Acme).
        await connection.ExecuteAsync("SELECT set_config('rwe.tenant_id', @acme, false)", new { acme = acme.ToString() });
        await connection.ExecuteAsync(
            """
            INSERT INTO app.tenant_data_source_grants (id, tenant_id, data_source_id, purposes, granted_at, granted_by)
            SELECT gen_random_uuid(), @acme, s.id, ARRAY['research'], now(), gen_random_uuid()
            FROM app.data_sources s WHERE s.name = @source
            """,
            new { acme, source = Source });
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static async Task<ConsentRegistryPage> OpenAsAsync(Microsoft.Playwright.IPage page, string email)
    {
        var login = new LoginPage(page);
        await login.OpenAsync();
        await login.SignInAsync(email, Application.Data.DemoSeeder.Password);
        var consent = new ConsentRegistryPage(page);
        await consent.OpenAsync();
        await Expect(consent.Source).ToContainTextAsync(Source);
        return consent;
    }

    [Fact]
    public async Task Acmes_admin_sees_counts_and_the_model_but_no_person_look_up_or_edit_for_a_northwind_source()
    {
        var page = await portal.NewPageAsync();
        var consent = await OpenAsAsync(page, "tenantadmin@acme.test");

        await Expect(consent.ConsentedCount("research")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^1[45]$"));
        await Expect(consent.Model("research")).ToHaveTextAsync("opt-in");
        await Expect(consent.CountsOnly).ToContainTextAsync("Northwind Hospital");
        await Expect(consent.LookUpButton).ToHaveCountAsync(0);
        await Expect(consent.UploadButton).ToHaveCountAsync(0);
        await Expect(consent.ModelEditor).ToHaveCountAsync(0);
        await PortalFixture.ScreenshotAsync(page, "consent-counts-only");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Northwinds_admin_withdraws_a_consent_and_acmes_counts_reflect_it()
    {
        var page = await portal.NewPageAsync();
        var consent = await OpenAsAsync(page, "tenantadmin@northwind.test");
        await Expect(consent.ConsentedCount("research")).ToHaveTextAsync(Granted.ToString(CultureInfo.InvariantCulture));

        await consent.LookUpAsync(5);
        await Expect(consent.PersonStatus("research")).ToContainTextAsync("granted");
        var yesterday = DateTime.UtcNow.AddDays(-1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        await consent.WithdrawAsync(yesterday, "Participant asked to leave the research programme");

        await Expect(consent.ConsentedCount("research")).ToHaveTextAsync((Granted - 1).ToString(CultureInfo.InvariantCulture));
        await Expect(consent.PersonStatus("research")).ToContainTextAsync("withdrawn");
        await Expect(consent.HistoryRows).ToHaveCountAsync(2);
        await PortalFixture.ScreenshotAsync(page, "consent-withdrawn-by-custodian");
        await page.Context.CloseAsync();

        var acmePage = await portal.NewPageAsync();
        var acme = await OpenAsAsync(acmePage, "tenantadmin@acme.test");
        await Expect(acme.ConsentedCount("research")).ToHaveTextAsync((Granted - 1).ToString(CultureInfo.InvariantCulture));
        await Expect(acme.LookUpButton).ToHaveCountAsync(0);
        await acmePage.Context.CloseAsync();

        await using var connection = new NpgsqlConnection(portal.Database.OwnerConnectionString);
        var audited = await connection.ExecuteScalarAsync<long>(
            """
            SELECT count(*) FROM app.audit_event e JOIN app.tenants t ON t.id = e.tenant_id
            WHERE e.event_type = 'ConsentChanged' AND e.user_email = 'tenantadmin@northwind.test' AND e.target = @target AND t.slug = 'northwind'
            """,
            new { target = $"{Source} person 5" });
        Assert.Equal(1, audited);
    }
}
