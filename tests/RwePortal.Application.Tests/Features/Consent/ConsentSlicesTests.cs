using System.Text;
using RwePortal.Application.Features.Consent;
using RwePortal.Application.Tests.Consent;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Features.Consent;

/// <summary>The consent page's slices through the mediator, as the demo TenantAdmin (signed in with a second factor).</summary>
[Collection(AppCollection.Name)]
public sealed class ConsentSlicesTests(AppFixture fixture) : IAsyncLifetime
{
    private readonly string _source = "sl_" + Guid.NewGuid().ToString("N")[..10];

    public async Task InitializeAsync()
    {
        await ConsentTestSources.CreateAsync(fixture.Database.OwnerConnectionString, _source, 20);
        await ConsentTestSources.GrantAsync(fixture.Database.OwnerConnectionString, _source, "acme");
        for (var person = 1; person <= 15; person++)
        {
            await ConsentTestSources.AddConsentAsync(fixture.Database.OwnerConnectionString, _source, person, "research", "granted", "2024-01-01");
        }

        await fixture.SignInAsAsync("tenantadmin@acme.test");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<long> ConsentedAsync(string purpose, DateOnly asOf) =>
        (await fixture.SendAsync(new GetConsentSummary.Query(_source, asOf))).Unwrap().Purposes.Single(p => p.Purpose == purpose).Consented;

    [Fact]
    public async Task A_withdrawal_lowers_the_consented_count_from_its_effective_date_only()
    {
        var withdrawal = await fixture.SendAsync(new RecordConsent.Command(
            _source, 3, "research", "withdrawn", new DateOnly(2024, 6, 1), null, "participant request"));

        Assert.True(withdrawal.Succeeded, withdrawal.Error?.Message);
        Assert.Equal(15, await ConsentedAsync("research", new DateOnly(2024, 5, 31)));
        Assert.Equal(14, await ConsentedAsync("research", new DateOnly(2024, 6, 1)));

        var person = (await fixture.SendAsync(new GetPersonConsent.Query(_source, 3, new DateOnly(2024, 7, 1)))).Unwrap();
        Assert.Equal("withdrawn", person.Purposes.Single(p => p.Purpose == "research").Status);
        Assert.Equal(["withdrawn", "granted"], person.History.Select(h => h.Status).ToArray());
        Assert.Equal("participant request", person.History[0].Reason);
        Assert.Equal("tenantadmin@acme.test", person.History[0].RecordedBy);
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
        var lookup = await fixture.SendAsync(new GetPersonConsent.Query(_source, 999, new DateOnly(2024, 1, 1)));
        var change = await fixture.SendAsync(new RecordConsent.Command(_source, 999, "research", "granted", new DateOnly(2024, 1, 1), null, "x"));

        Assert.Equal("Person.NotFound", lookup.Error?.Code);
        Assert.Equal("Person.NotFound", change.Error?.Code);
    }

    [Fact]
    public async Task An_upload_goes_through_the_shared_importer_and_reports_rejections()
    {
        var bad = Encoding.UTF8.GetBytes("person_id,purpose,status,effective_from\n1,recontact,granted,2024-01-01\n2,recontact,granted,someday\n");
        var good = Encoding.UTF8.GetBytes("person_id,purpose,status,effective_from\n1,recontact,granted,2024-01-01\n2,recontact,granted,2024-01-01\n");

        var rejected = (await fixture.SendAsync(new ImportConsent.Command(_source, "bad.csv", bad))).Unwrap();
        var applied = (await fixture.SendAsync(new ImportConsent.Command(_source, "good.csv", good))).Unwrap();

        Assert.False(rejected.Applied);
        Assert.Equal((3, "effective_from"), (rejected.Errors[0].Line, rejected.Errors[0].Column));
        Assert.True(applied.Applied);
        Assert.Equal(2, await ConsentedAsync("recontact", new DateOnly(2024, 2, 1)));
    }

    [Fact]
    public async Task An_analyst_may_not_manage_consent()
    {
        await fixture.SignInAsAsync("analyst@acme.test");

        var result = await fixture.SendAsync(new GetConsentSummary.Query(_source, new DateOnly(2024, 1, 1)));

        Assert.Equal("Auth.Forbidden", result.Error?.Code);
    }

    [Fact]
    public async Task Another_tenants_admin_finds_no_source_that_was_not_granted_to_their_tenant()
    {
        await fixture.SignInAsAsync("tenantadmin@northwind.test");

        var sources = (await fixture.SendAsync(new ListConsentSources.Query())).Unwrap().Sources;
        var summary = await fixture.SendAsync(new GetConsentSummary.Query(_source, new DateOnly(2024, 2, 1)));
        var change = await fixture.SendAsync(new RecordConsent.Command(_source, 3, "research", "withdrawn", new DateOnly(2024, 6, 1), null, "x"));
        var upload = await fixture.SendAsync(new ImportConsent.Command(
            _source, "good.csv", Encoding.UTF8.GetBytes("person_id,purpose,status,effective_from\n1,recontact,granted,2024-01-01\n")));

        Assert.DoesNotContain(_source, sources);
        Assert.Equal("DataSource.NotFound", summary.Error?.Code);
        Assert.Equal("DataSource.NotFound", change.Error?.Code);
        Assert.Equal("DataSource.NotFound", upload.Error?.Code);
    }
}
