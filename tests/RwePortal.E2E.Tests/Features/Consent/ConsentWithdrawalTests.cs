using Dapper;
using Npgsql;
using RwePortal.E2E.Tests.Infrastructure;
using RwePortal.E2E.Tests.Pages;
using RwePortal.Warehouse.Sources;
using static Microsoft.Playwright.Assertions;

namespace RwePortal.E2E.Tests.Features.Consent;

/// <summary>The consent registry in the real portal, as the demo TenantAdmin of Acme (signed in with the demo second factor).</summary>
[Collection(PortalCollection.Name)]
public sealed class ConsentWithdrawalTests(PortalFixture portal) : IAsyncLifetime
{
    // Sorts first among registered sources, so the page opens on it.
    private const string Source = "a_consent_e2e";
    private const int Persons = 30;

    public async Task InitializeAsync()
    {
        await using var dataSource = NpgsqlDataSource.Create(portal.Database.OwnerConnectionString);
        var registry = new DataSourceRegistry(dataSource);
        if (await registry.FindAsync(Source, CancellationToken.None) is not null)
        {
            return;
        }

        await registry.AddAsync(Source, "Consent E2E source", CancellationToken.None);
        await using var connection = await dataSource.OpenConnectionAsync();
        await connection.ExecuteAsync(
            $"""
            INSERT INTO cdm_{Source}.person (person_id, gender_concept_id, year_of_birth, race_concept_id, ethnicity_concept_id, person_source_value)
            SELECT g, 8532, 1970, 0, 0, 'E2E' || g FROM generate_series(1, @persons) g;
            INSERT INTO gov.consent (source, person_id, purpose, status, effective_from, recorded_by)
            SELECT @source, g, 'research', 'granted', DATE '2024-01-01', 'e2e setup' FROM generate_series(1, @persons) g;
            -- Acme may use the source (grants are row-level secured for the owner too: this is cross-tenant work).
            SELECT set_config('rwe.cross_tenant', 'on', false);
            INSERT INTO app.tenant_data_source_grants (id, tenant_id, data_source_id, purposes, granted_at, granted_by)
            SELECT gen_random_uuid(), t.id, s.id, ARRAY['research'], now(), gen_random_uuid()
            FROM app.tenants t, app.data_sources s WHERE t.slug = 'acme' AND s.name = @source;
            """,
            new { persons = Persons, source = Source });
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_withdrawal_lowers_the_consented_count_for_its_purpose_from_its_effective_date()
    {
        var page = await portal.NewPageAsync();
        var login = new LoginPage(page);
        await login.OpenAsync();
        await login.SignInAsync("tenantadmin@acme.test", Application.Data.DemoSeeder.Password);
        var consent = new ConsentRegistryPage(page);
        await consent.OpenAsync();
        await Expect(consent.Source).ToContainTextAsync(Source);
        await Expect(consent.ConsentedCount("research")).ToHaveTextAsync(Persons.ToString(System.Globalization.CultureInfo.InvariantCulture));

        await consent.LookUpAsync(5);
        await Expect(consent.PersonStatus("research")).ToContainTextAsync("granted");
        await consent.WithdrawAsync("2025-06-01", "Participant asked to leave the research programme");

        await Expect(consent.ConsentedCount("research")).ToHaveTextAsync("29");
        await Expect(consent.PersonStatus("research")).ToContainTextAsync("withdrawn");
        await Expect(consent.HistoryRows).ToHaveCountAsync(2);
        await PortalFixture.ScreenshotAsync(page, "consent-withdrawn");

        await consent.SetAsOfAsync("2025-05-31");
        await Expect(consent.ConsentedCount("research")).ToHaveTextAsync("30");
        await consent.SetAsOfAsync("2025-06-01");
        await Expect(consent.ConsentedCount("research")).ToHaveTextAsync("29");
        await Expect(consent.ConsentedCount("genomic_research")).ToHaveTextAsync("0");

        await using var connection = new NpgsqlConnection(portal.Database.OwnerConnectionString);
        var audited = await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM app.audit_event WHERE event_type = 'ConsentChanged' AND user_email = 'tenantadmin@acme.test' AND target = @target",
            new { target = $"{Source} person 5" });
        Assert.Equal(1, audited);
        await page.Context.CloseAsync();
    }
}
