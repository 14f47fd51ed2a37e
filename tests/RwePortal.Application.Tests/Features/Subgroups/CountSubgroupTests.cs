using Npgsql;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Subgroups;
using RwePortal.Application.Privacy;
using RwePortal.Application.Security;
using RwePortal.Application.Tenancy;
using RwePortal.Application.Tests.Infrastructure;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Application.Tests.Features.Subgroups;

/// <summary>
/// A subgroup count through the mediator, as an analyst: the tenant's grant and purpose, consent in the statement,
/// every number through the small-cell policy, and the query on the audit trail. A 30-person source: persons 1–20 have
/// GI bleeding (192671), 1–5 are women, person 2 withdrew from research (research is under a waiver).
/// </summary>
[Collection(AppCollection.Name)]
public sealed class CountSubgroupTests(AppFixture fixture) : IAsyncLifetime
{
    private const string Bleeds = """{"version": 1, "criteria": [{"kind": "condition", "label": "GI bleed", "concepts": [{"id": 192671}]}]}""";
    private const string BleedingWomen = """{"version": 1, "criteria": [{"kind": "condition", "concepts": [{"id": 192671}]}, {"kind": "sex", "label": "women", "concepts": [8532]}]}""";
    private static readonly string AcmeAnalyst = DemoSeeder.Email(DemoSeeder.Tenants[0], TenantRole.Analyst);
    private readonly string _source = $"sub_{Guid.NewGuid():N}"[..16];
    private Guid _acme;

    public async Task InitializeAsync()
    {
        _acme = await fixture.TenantIdAsync("acme");
        await using var dataSource = NpgsqlDataSource.Create(fixture.Database.OwnerConnectionString);
        var registered = await new DataSourceRegistry(dataSource).AddAsync(_source, "subgroup slice test source", CancellationToken.None);
        await fixture.OwnerSqlAsync($"""
            INSERT INTO cdm_{_source}.person (person_id, gender_concept_id, year_of_birth, race_concept_id, ethnicity_concept_id)
            SELECT g, CASE WHEN g <= 5 THEN 8532 ELSE 8507 END, 1960, 0, 0 FROM generate_series(1, 30) g;
            INSERT INTO cdm_{_source}.condition_occurrence (condition_occurrence_id, person_id, condition_concept_id, condition_start_date, condition_type_concept_id)
            SELECT g, g, 192671, DATE '2020-01-01', 32817 FROM generate_series(1, 20) g;
            INSERT INTO gov.consent_model (source, purpose, model, reference, set_by) VALUES ('{_source}', 'research', 'waiver', 'IRB-TEST-1', 'test');
            INSERT INTO gov.consent (source, person_id, purpose, status, effective_from, recorded_by)
            VALUES ('{_source}', 2, 'research', 'withdrawn', current_date - 1, 'test');
            """);
        await using var acme = await fixture.CreateDbContextAsync(_acme);
        acme.DataSourceGrants.Add(new TenantDataSourceGrant { TenantId = _acme, DataSourceId = registered.Id, Purposes = [DataPurposes.Research] });
        await acme.SaveChangesAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_count_is_shown_with_bounded_deterministic_noise_and_the_same_query_shows_the_same_number()
    {
        await fixture.SignInAsAsync(AcmeAnalyst);

        var first = (await fixture.SendAsync(new CountSubgroup.Query(_source, Bleeds))).Unwrap();
        var again = (await fixture.SendAsync(new CountSubgroup.Query(_source, Bleeds))).Unwrap();

        // 19 bleeding persons consent (person 2 withdrew); shown within the noise range, never below the threshold.
        Assert.Equal(CellProtection.Perturbed, first.Count.Protection);
        Assert.InRange(first.Count.Value!.Value, Math.Max(11, 19 - SmallCellPolicy.DefaultNoiseRange), 19 + SmallCellPolicy.DefaultNoiseRange);
        Assert.Equal(first.Count, again.Count);
        Assert.Equal(["all persons, consented", "GI bleed"], first.Attrition.Select(s => s.Label));
    }

    [Fact]
    public async Task Each_attrition_step_shows_what_its_shorter_definition_shows_so_longer_queries_bring_no_fresh_noise()
    {
        await fixture.SignInAsAsync(AcmeAnalyst);
        const string Everyone = """{"version": 1, "criteria": []}""";
        const string BleedingMenOrWomen = """{"version": 1, "criteria": [{"kind": "condition", "label": "GI bleed", "concepts": [{"id": 192671}]}, {"kind": "sex", "concepts": [8507, 8532]}]}""";

        var everyone = (await fixture.SendAsync(new CountSubgroup.Query(_source, Everyone))).Unwrap();
        var bleeds = (await fixture.SendAsync(new CountSubgroup.Query(_source, Bleeds))).Unwrap();
        var longer = (await fixture.SendAsync(new CountSubgroup.Query(_source, BleedingMenOrWomen))).Unwrap();

        // The consented population and the bleeders are shown the same whichever longer query they are steps of, and the
        // last step is the count itself (not a second, independently noised look at the same people).
        Assert.Equal(everyone.Count, bleeds.Attrition[0].Remaining);
        Assert.Equal(everyone.Count, longer.Attrition[0].Remaining);
        // (raised to the next step where noise would have put it below: everyone who bleeds has a sex, 19 and 19)
        Assert.Equal(Math.Max(bleeds.Count.Value!.Value, longer.Count.Value!.Value), longer.Attrition[1].Remaining.Value);
        Assert.Equal(bleeds.Count, bleeds.Attrition[^1].Remaining);
        Assert.Equal(longer.Count, longer.Attrition[^1].Remaining);
        Assert.True(
            longer.Attrition.Zip(longer.Attrition.Skip(1)).All(p => p.First.Remaining.Value >= p.Second.Remaining.Value),
            "the funnel never grows");
    }

    [Fact]
    public async Task Counts_from_1_to_10_never_reach_the_caller_removed_by_consent_included()
    {
        await fixture.SignInAsAsync(AcmeAnalyst);

        var women = (await fixture.SendAsync(new CountSubgroup.Query(_source, BleedingWomen))).Unwrap();

        Assert.Null(women.Count.Value);
        Assert.Equal("<11", women.Count.Display);
        Assert.Null(women.RemovedByConsent.Value);
        Assert.All(women.Attrition.Where(s => s.Remaining.Value is { } v), s => Assert.True(s.Remaining.Value >= 11));
    }

    [Fact]
    public async Task Another_tenant_without_a_grant_finds_no_source_and_an_ungranted_purpose_is_refused()
    {
        await fixture.SignInAsAsync(DemoSeeder.Email(DemoSeeder.Tenants[1], TenantRole.Analyst));
        var northwind = await fixture.SendAsync(new CountSubgroup.Query(_source, Bleeds));

        await fixture.SignInAsAsync(AcmeAnalyst);
        var recontact = await fixture.SendAsync(new CountSubgroup.Query(_source, Bleeds, DataPurposes.Recontact));

        Assert.Equal("DataSource.NotFound", northwind.Error!.Code);
        Assert.Equal("Subgroup.PurposeNotGranted", recontact.Error!.Code);
    }

    [Fact]
    public async Task A_bad_definition_is_refused_with_the_node_path_and_runs_nothing()
    {
        await fixture.SignInAsAsync(AcmeAnalyst);

        var result = await fixture.SendAsync(new CountSubgroup.Query(
            _source, """{"version": 1, "criteria": [{"kind": "condition", "concepts": [{"id": "1; DROP TABLE person"}]}]}"""));

        Assert.Equal("Validation", result.Error!.Code.Split('.')[0]);
        Assert.Contains("criteria[0]", result.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_count_is_on_the_tenants_audit_trail_with_the_statement_hash_purpose_and_exact_rows()
    {
        await fixture.SignInAsAsync(AcmeAnalyst);

        (await fixture.SendAsync(new CountSubgroup.Query(_source, Bleeds))).Unwrap();

        var details = await fixture.OwnerSqlRowAsync<string>(
            "SELECT details::text FROM app.audit_event WHERE event_type = 'WarehouseQuery' AND tenant_id = @tenant AND details -> 'parameters' ->> 'source' = @source ORDER BY id DESC LIMIT 1",
            new { tenant = _acme, source = _source });
        Assert.Matches("\"sql_sha256\": \"[0-9a-f]{64}\"", details);
        Assert.Contains("\"rows\": 19", details, StringComparison.Ordinal);
        Assert.Contains("\"purpose\": \"research\"", details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_count_alone_shows_what_the_funnels_last_step_shows_without_steps_and_is_audited()
    {
        await fixture.SignInAsAsync(AcmeAnalyst);

        var alone = (await fixture.SendAsync(new CountSubgroup.Query(_source, BleedingWomen, Attrition: false))).Unwrap();
        var details = await fixture.OwnerSqlRowAsync<string>(
            "SELECT details::text FROM app.audit_event WHERE event_type = 'WarehouseQuery' AND tenant_id = @tenant AND details -> 'parameters' ->> 'source' = @source ORDER BY id DESC LIMIT 1",
            new { tenant = _acme, source = _source });
        var funnel = (await fixture.SendAsync(new CountSubgroup.Query(_source, BleedingWomen))).Unwrap();
        var funnelDetails = await fixture.OwnerSqlRowAsync<string>(
            "SELECT details::text FROM app.audit_event WHERE event_type = 'WarehouseQuery' AND tenant_id = @tenant AND details -> 'parameters' ->> 'source' = @source ORDER BY id DESC LIMIT 1",
            new { tenant = _acme, source = _source });
        var bleeds = (await fixture.SendAsync(new CountSubgroup.Query(_source, Bleeds, Attrition: false))).Unwrap();
        var bleedsFunnel = (await fixture.SendAsync(new CountSubgroup.Query(_source, Bleeds))).Unwrap();

        // Four bleeding women consent: "<11" both ways; 19 bleeders: the same noisy number both ways.
        Assert.Empty(alone.Attrition);
        Assert.Equal(funnel.Count, alone.Count);
        Assert.Equal(funnel.RemovedByConsent, alone.RemovedByConsent);
        Assert.Equal(CellProtection.Perturbed, bleeds.Count.Protection);
        Assert.Equal(bleedsFunnel.Count, bleeds.Count);
        Assert.Equal(bleedsFunnel.Attrition[^1].Remaining, bleeds.Count);
        Assert.Contains("\"rows\": 4", details, StringComparison.Ordinal);
        // Each names the statement that ran: the count alone is not the funnel's statement.
        static string Hash(string audited) => System.Text.RegularExpressions.Regex.Match(audited, "\"sql_sha256\": \"([0-9a-f]{64})\"").Groups[1].Value;
        Assert.NotEqual(Hash(funnelDetails), Hash(details));
        Assert.NotEmpty(Hash(details));
    }
}
