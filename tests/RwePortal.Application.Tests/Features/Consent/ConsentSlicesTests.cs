using System.Text;
using Dapper;
using Npgsql;
using RwePortal.Application.Consent;
using RwePortal.Application.Features.Consent;
using RwePortal.Application.Features.DataSources;
using RwePortal.Application.Tests.Consent;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Features.Consent;

/// <summary>
/// The consent page's slices through the mediator. The source is held by Northwind (custodian) and granted to Acme
/// for research: Northwind's TenantAdmin manages its consent; Acme's sees counts and models only.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class ConsentSlicesTests(AppFixture fixture) : IAsyncLifetime
{
    private readonly string _source = "sl_" + Guid.NewGuid().ToString("N")[..10];

    private string Owner => fixture.Database.OwnerConnectionString;

    public async Task InitializeAsync()
    {
        await ConsentTestSources.CreateAsync(Owner, _source, 30, custodianSlug: "northwind");
        await ConsentTestSources.GrantAsync(Owner, _source, "acme", "research");
        for (var person = 1; person <= 15; person++)
        {
            await ConsentTestSources.AddConsentAsync(Owner, _source, person, "research", "granted", "2024-01-01");
        }

        await fixture.SignInAsAsync("tenantadmin@northwind.test");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<GetConsentSummary.PurposeSummary> SummaryAsync(string purpose) =>
        (await fixture.SendAsync(new GetConsentSummary.Query(_source))).Unwrap().Purposes.Single(p => p.Purpose == purpose);

    private static byte[] Csv(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task The_custodians_withdrawal_today_lowers_the_count_and_is_audited_under_the_custodian_tenant()
    {
        Assert.Equal(15, (await SummaryAsync("research")).Consented.Value);

        var today = DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-1));
        var withdrawal = await fixture.SendAsync(new RecordConsent.Command(_source, 3, "research", "withdrawn", today, null, "participant request"));

        Assert.True(withdrawal.Succeeded, withdrawal.Error?.Message);
        var research = await SummaryAsync("research");
        Assert.Equal(14, research.Consented.Value);
        Assert.Equal(16, research.Excluded.Value);
        var person = (await fixture.SendAsync(new GetPersonConsent.Query(_source, 3))).Unwrap();
        Assert.Equal("withdrawn", person.Purposes.Single(p => p.Purpose == "research").Status);
        Assert.Equal(["withdrawn", "granted"], person.History.Select(h => h.Status).ToArray());
        Assert.Equal(("participant request", "tenantadmin@northwind.test"), (person.History[0].Reason, person.History[0].RecordedBy));

        await using var connection = new NpgsqlConnection(Owner);
        var tenant = await connection.ExecuteScalarAsync<Guid?>(
            "SELECT tenant_id FROM app.audit_event WHERE event_type = 'ConsentChanged' AND target = @target",
            new { target = $"{_source} person 3" });
        Assert.Equal(await fixture.TenantIdAsync("northwind"), tenant);
    }

    [Fact]
    public async Task A_granted_tenants_admin_sees_counts_and_models_but_no_person_and_cannot_change_anything()
    {
        await fixture.SignInAsAsync("tenantadmin@acme.test");

        var sources = (await fixture.SendAsync(new ListConsentSources.Query())).Unwrap().Sources;
        var summary = (await fixture.SendAsync(new GetConsentSummary.Query(_source))).Unwrap();
        var lookup = await fixture.SendAsync(new GetPersonConsent.Query(_source, 3));
        var change = await fixture.SendAsync(new RecordConsent.Command(_source, 3, "research", "withdrawn", new DateOnly(2024, 6, 1), null, "x"));
        var upload = await fixture.SendAsync(new ImportConsent.Command(_source, "c.csv", Csv("person_id,purpose,status,effective_from\n1,recontact,granted,2024-01-01\n")));
        var model = await fixture.SendAsync(new SetConsentModel.Command(_source, "research", ConsentModels.OptOut, null));

        var listed = sources.Single(s => s.Name == _source);
        Assert.Equal(("Northwind Hospital", false), (listed.CustodianName, listed.IsCustodian));
        Assert.False(summary.IsCustodian);
        Assert.Equal(15, summary.Purposes.Single(p => p.Purpose == "research").Consented.Value);
        Assert.All(summary.Purposes, p => Assert.Null(p.ModelSetBy));
        Assert.Equal(ConsentErrors.Forbidden, lookup.Error?.Code);
        Assert.Equal(ConsentErrors.Forbidden, change.Error?.Code);
        Assert.Equal(ConsentErrors.Forbidden, upload.Error?.Code);
        Assert.Equal(ConsentErrors.Forbidden, model.Error?.Code);
        Assert.Equal(15, (await SummaryAsync("research")).Consented.Value);
    }

    [Fact]
    public async Task A_tenant_neither_custodian_nor_granted_finds_no_source()
    {
        var other = "sl_" + Guid.NewGuid().ToString("N")[..10];
        await ConsentTestSources.CreateAsync(Owner, other, 5, custodianSlug: "northwind");
        await fixture.SignInAsAsync("tenantadmin@acme.test");

        var sources = (await fixture.SendAsync(new ListConsentSources.Query())).Unwrap().Sources;
        var summary = await fixture.SendAsync(new GetConsentSummary.Query(other));
        var lookup = await fixture.SendAsync(new GetPersonConsent.Query(other, 1));

        Assert.DoesNotContain(sources, s => s.Name == other);
        Assert.Equal("DataSource.NotFound", summary.Error?.Code);
        Assert.Equal("DataSource.NotFound", lookup.Error?.Code);
    }

    [Fact]
    public async Task The_platform_admin_records_consent_acting_in_the_custodian_tenant_only()
    {
        var admin = await fixture.SignInAsAsync("admin@rweportal.test");
        fixture.CurrentUser.User = admin with { TenantId = await fixture.TenantIdAsync("acme") };
        var fromAcme = await fixture.SendAsync(new RecordConsent.Command(_source, 4, "research", "withdrawn", new DateOnly(2024, 6, 1), null, "request"));

        fixture.CurrentUser.User = admin with { TenantId = await fixture.TenantIdAsync("northwind") };
        var fromNorthwind = await fixture.SendAsync(new RecordConsent.Command(_source, 4, "research", "withdrawn", new DateOnly(2024, 6, 1), null, "request"));

        Assert.Equal(ConsentErrors.Forbidden, fromAcme.Error?.Code);
        Assert.True(fromNorthwind.Succeeded, fromNorthwind.Error?.Message);
    }

    [Fact]
    public async Task A_source_without_custodian_takes_no_consent_in_the_portal_until_the_platform_admin_names_one()
    {
        var unheld = "sl_" + Guid.NewGuid().ToString("N")[..10];
        await ConsentTestSources.CreateAsync(Owner, unheld, 5, custodianSlug: null);
        var admin = await fixture.SignInAsAsync("admin@rweportal.test");
        var northwind = await fixture.TenantIdAsync("northwind");
        fixture.CurrentUser.User = admin with { TenantId = northwind };

        var before = await fixture.SendAsync(new RecordConsent.Command(unheld, 1, "research", "granted", new DateOnly(2024, 1, 1), null, "form"));
        var named = await fixture.SendAsync(new SetDataSourceCustodian.Command(unheld, northwind));
        var again = await fixture.SendAsync(new SetDataSourceCustodian.Command(unheld, await fixture.TenantIdAsync("acme")));
        var after = await fixture.SendAsync(new RecordConsent.Command(unheld, 1, "research", "granted", new DateOnly(2024, 1, 1), null, "form"));

        Assert.Equal(ConsentErrors.NoCustodian, before.Error?.Code);
        Assert.True(named.Succeeded, named.Error?.Message);
        Assert.Equal("DataSource.CustodianSet", again.Error?.Code);
        Assert.True(after.Succeeded, after.Error?.Message);
        var custodians = (await fixture.SendAsync(new ListDataSourceCustodians.Query())).Unwrap();
        Assert.Equal("Northwind Hospital", custodians.Sources.Single(s => s.Source == unheld).TenantName);

        await fixture.SignInAsAsync("tenantadmin@northwind.test");
        var byTenantAdmin = await fixture.SendAsync(new SetDataSourceCustodian.Command(unheld, northwind));
        Assert.Equal("Auth.Forbidden", byTenantAdmin.Error?.Code);
    }

    [Fact]
    public async Task The_custodian_sets_a_model_that_every_count_then_states_and_the_change_is_audited()
    {
        var optOut = await fixture.SendAsync(new SetConsentModel.Command(_source, "research", ConsentModels.OptOut, null));
        var research = await SummaryAsync("research");
        Assert.True(optOut.Succeeded, optOut.Error?.Message);
        Assert.Equal((ConsentModels.OptIn, ConsentModels.OptOut), (optOut.Value!.PreviousModel, optOut.Value.Model));
        Assert.Equal(30, research.Consented.Value);
        Assert.Equal("Research: opt-out — 30 people", research.Statement);

        var noReference = await fixture.SendAsync(new SetConsentModel.Command(_source, "genomic_research", ConsentModels.Waiver, " "));
        var waiver = await fixture.SendAsync(new SetConsentModel.Command(_source, "genomic_research", ConsentModels.Waiver, "IRB-2024-117"));
        var genomic = await SummaryAsync("genomic_research");
        Assert.Equal("Validation.Failed", noReference.Error?.Code);
        Assert.True(waiver.Succeeded, waiver.Error?.Message);
        Assert.Equal(("waiver", "IRB-2024-117", "tenantadmin@northwind.test"), (genomic.Model, genomic.ModelReference, genomic.ModelSetBy));
        Assert.Equal("Genomic research: waiver (IRB-2024-117) — 30 people", genomic.Statement);

        await using var connection = new NpgsqlConnection(Owner);
        var details = await connection.ExecuteScalarAsync<string>(
            "SELECT details::text FROM app.audit_event WHERE event_type = 'ConsentChanged' AND target = @target",
            new { target = $"{_source} genomic_research consent model" });
        Assert.Contains("\"before\": \"opt-in\"", details, StringComparison.Ordinal);
        Assert.Contains("\"after\": \"waiver (IRB-2024-117)\"", details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Small_counts_and_the_complement_that_would_reveal_them_are_protected()
    {
        await ConsentTestSources.AddConsentAsync(Owner, _source, 1, "recontact", "granted", "2024-01-01");
        await ConsentTestSources.AddConsentAsync(Owner, _source, 2, "recontact", "granted", "2024-01-01");

        var recontact = await SummaryAsync("recontact");

        Assert.Equal(("<11", true), (recontact.Consented.Display, recontact.Consented.Suppressed));
        Assert.Equal(("—", true), (recontact.Excluded.Display, recontact.Excluded.Suppressed));
        Assert.Equal("Recontact: opt-in — <11 people", recontact.Statement);
    }

    [Fact]
    public async Task A_withdrawal_dated_after_today_is_refused_by_the_slice_and_by_the_importer()
    {
        var future = DateOnly.FromDateTime(DateTime.UtcNow.AddDays(5));

        var change = await fixture.SendAsync(new RecordConsent.Command(_source, 2, "research", "withdrawn", future, null, "later"));
        var upload = (await fixture.SendAsync(new ImportConsent.Command(
            _source, "c.csv", Csv($"person_id,purpose,status,effective_from\n2,research,withdrawn,{future:yyyy-MM-dd}\n")))).Unwrap();

        Assert.Equal(ConsentErrors.FutureWithdrawal, change.Error?.Code);
        Assert.False(upload.Applied);
        Assert.Equal((2, "effective_from"), (upload.Errors[0].Line, upload.Errors[0].Column));
    }

    [Fact]
    public async Task A_change_without_a_reason_is_refused_by_validation()
    {
        var result = await fixture.SendAsync(new RecordConsent.Command(_source, 4, "research", "withdrawn", new DateOnly(2024, 6, 1), null, " "));

        Assert.Equal("Validation.Failed", result.Error?.Code);
    }

    [Fact]
    public async Task A_person_not_in_the_source_is_not_found()
    {
        var lookup = await fixture.SendAsync(new GetPersonConsent.Query(_source, 999));
        var change = await fixture.SendAsync(new RecordConsent.Command(_source, 999, "research", "granted", new DateOnly(2024, 1, 1), null, "x"));

        Assert.Equal("Person.NotFound", lookup.Error?.Code);
        Assert.Equal("Person.NotFound", change.Error?.Code);
    }

    [Fact]
    public async Task The_custodians_upload_goes_through_the_shared_importer_and_reports_rejections()
    {
        var bad = Csv("person_id,purpose,status,effective_from\n1,recontact,granted,2024-01-01\n2,recontact,granted,someday\n");
        var good = Csv("person_id,purpose,status,effective_from\n1,recontact,granted,2024-01-01\n2,recontact,granted,2024-01-01\n");

        var rejected = (await fixture.SendAsync(new ImportConsent.Command(_source, "bad.csv", bad))).Unwrap();
        var applied = (await fixture.SendAsync(new ImportConsent.Command(_source, "good.csv", good))).Unwrap();

        Assert.False(rejected.Applied);
        Assert.Equal((3, "effective_from"), (rejected.Errors[0].Line, rejected.Errors[0].Column));
        Assert.True(applied.Applied);
        Assert.Equal("<11", (await SummaryAsync("recontact")).Consented.Display);

        // The applied upload is on the trail once (its ConsentChanged event); the rejected one once, as a rejection.
        await using var connection = new NpgsqlConnection(fixture.Database.OwnerConnectionString);
        var events = (await connection.QueryAsync<(string, string)>(
            """
            SELECT event_type, outcome FROM app.audit_event
            WHERE target LIKE '%' || @source || '%' AND (target LIKE '%good.csv' OR target LIKE '%bad.csv')
            ORDER BY id
            """,
            new { source = _source })).ToList();
        Assert.Equal([("Command", "Rejected"), ("ConsentChanged", "Success")], events);
    }

    [Fact]
    public async Task An_analyst_may_not_manage_consent()
    {
        await fixture.SignInAsAsync("analyst@northwind.test");

        var result = await fixture.SendAsync(new GetConsentSummary.Query(_source));

        Assert.Equal("Auth.Forbidden", result.Error?.Code);
    }
}
