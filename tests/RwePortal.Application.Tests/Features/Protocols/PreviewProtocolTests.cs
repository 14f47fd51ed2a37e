using System.Text.Json.Nodes;
using Npgsql;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Protocols;
using RwePortal.Application.Privacy;
using RwePortal.Application.Security;
using RwePortal.Application.Tenancy;
using RwePortal.Application.Tests.Infrastructure;
using RwePortal.Warehouse.Protocols;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Application.Tests.Features.Protocols;

/// <summary>
/// The protocol preview through the mediator, as a study lead: the tenant's grant and purpose, consent in the
/// statement, no outcome read, every number through the small-cell policy, the query on the audit trail. A source
/// where everyone is observed 2015–2023 and born in 1960: persons 1–14 start celecoxib (1118084) on 2020-03-01,
/// 15–26 diclofenac (1124300) on 2021-06-01, 27–29 diclofenac on 2022-02-01, 30 both on 2020-03-01, 31 celecoxib on
/// 2015-06-01 (not a year observed before); person 2 withdrew from research (research is under a waiver); every
/// new user has a GI haemorrhage (192671, the protocol's outcome) the day before and the day after time zero.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class PreviewProtocolTests(AppFixture fixture) : IAsyncLifetime
{
    private static readonly string AcmeStudyLead = DemoSeeder.Email(DemoSeeder.Tenants[0], TenantRole.StudyLead);
    private readonly string _source = $"pro_{Guid.NewGuid():N}"[..16];
    private Guid _acme;

    /// <summary>The shipped Eunomia example protocol (celecoxib vs diclofenac, outcome GI haemorrhage), optionally edited.</summary>
    private static string Protocol(Action<JsonObject>? edit = null)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (!Directory.Exists(Path.Combine(directory!.FullName, "docs", "examples", "protocols")))
        {
            directory = directory.Parent;
        }

        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(directory.FullName, "docs", "examples", "protocols", "eunomia-celecoxib-vs-diclofenac.json")))!.AsObject();
        edit?.Invoke(root);
        return root.ToJsonString();
    }

    public async Task InitializeAsync()
    {
        _acme = await fixture.TenantIdAsync("acme");
        await using var dataSource = NpgsqlDataSource.Create(fixture.Database.OwnerConnectionString);
        var registered = await new DataSourceRegistry(dataSource).AddAsync(_source, "protocol preview slice test source", CancellationToken.None);
        await fixture.OwnerSqlAsync($"""
            INSERT INTO cdm_{_source}.person (person_id, gender_concept_id, year_of_birth, race_concept_id, ethnicity_concept_id)
            SELECT g, 8507, 1960, 0, 0 FROM generate_series(1, 32) g;
            INSERT INTO cdm_{_source}.observation_period (observation_period_id, person_id, observation_period_start_date, observation_period_end_date, period_type_concept_id)
            SELECT g, g, DATE '2015-01-01', DATE '2023-12-31', 32817 FROM generate_series(1, 32) g;
            INSERT INTO cdm_{_source}.drug_exposure (drug_exposure_id, person_id, drug_concept_id, drug_exposure_start_date, drug_exposure_end_date, drug_type_concept_id)
            SELECT g, g, 1118084, DATE '2020-03-01', DATE '2020-03-31', 32869 FROM generate_series(1, 14) g
            UNION ALL SELECT g, g, 1124300, DATE '2021-06-01', DATE '2021-06-30', 32869 FROM generate_series(15, 26) g
            UNION ALL SELECT g, g, 1124300, DATE '2022-02-01', DATE '2022-02-28', 32869 FROM generate_series(27, 29) g
            UNION ALL SELECT 30, 30, 1118084, DATE '2020-03-01', DATE '2020-03-31', 32869
            UNION ALL SELECT 130, 30, 1124300, DATE '2020-03-01', DATE '2020-03-31', 32869
            UNION ALL SELECT 31, 31, 1118084, DATE '2015-06-01', DATE '2015-06-30', 32869;
            INSERT INTO cdm_{_source}.condition_occurrence (condition_occurrence_id, person_id, condition_concept_id, condition_start_date, condition_type_concept_id)
            SELECT row_number() OVER (), d.person_id, 192671, d.tz + o.offset_days, 32817
            FROM (SELECT person_id, min(drug_exposure_start_date) AS tz FROM cdm_{_source}.drug_exposure GROUP BY person_id) d
            CROSS JOIN (VALUES (-1), (1)) o(offset_days);
            INSERT INTO gov.consent_model (source, purpose, model, reference, set_by) VALUES ('{_source}', 'research', 'waiver', 'IRB-TEST-2', 'test');
            INSERT INTO gov.consent (source, person_id, purpose, status, effective_from, recorded_by)
            VALUES ('{_source}', 2, 'research', 'withdrawn', current_date - 1, 'test');
            """);
        await using var acme = await fixture.CreateDbContextAsync(_acme);
        acme.DataSourceGrants.Add(new TenantDataSourceGrant { TenantId = _acme, DataSourceId = registered.Id, Purposes = [DataPurposes.Research] });
        await acme.SaveChangesAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static void AssertNear(long exact, ProtectedCount shown)
    {
        Assert.Equal(CellProtection.Perturbed, shown.Protection);
        Assert.InRange(shown.Value!.Value, Math.Max(11, exact - SmallCellPolicy.DefaultNoiseRange), exact + SmallCellPolicy.DefaultNoiseRange);
    }

    [Fact]
    public async Task The_attrition_per_arm_is_shown_with_bounded_deterministic_noise_and_the_prior_outcome_line_is_not_run()
    {
        await fixture.SignInAsAsync(AcmeStudyLead);

        var preview = (await fixture.SendAsync(new PreviewProtocol.Query(_source, Protocol()))).Unwrap();
        var again = (await fixture.SendAsync(new PreviewProtocol.Query(_source, Protocol()))).Unwrap();

        Assert.Equal("celecoxib", preview.Treatment);
        Assert.Equal(6, preview.Attrition.Count);
        // Consented first dispensings: 14 celecoxib (person 2 withdrew) and 15 diclofenac; the cohort after the washout: 13 and 15.
        AssertNear(14, preview.Attrition[0].Treatment!);
        AssertNear(15, preview.Attrition[0].Comparator!);
        AssertNear(13, preview.Attrition[4].Treatment!);
        AssertNear(15, preview.Attrition[4].Comparator!);
        AssertNear(28, preview.Attrition[4].Total!);
        Assert.Equal(ProtocolPreviewCompiler.PriorOutcomeLine, preview.Attrition[5].Label);
        Assert.False(preview.Attrition[5].Applied);
        Assert.Null(preview.Attrition[5].Total);
        Assert.Equal(preview.Attrition, again.Attrition);
        Assert.Equal(preview.TimeZero.Bins, again.TimeZero.Bins);
        Assert.Equal(preview.TimeZero with { Bins = [] }, again.TimeZero with { Bins = [] });
    }

    [Fact]
    public async Task Counts_from_1_to_10_never_reach_the_caller_and_the_time_zero_table_hides_their_complements()
    {
        await fixture.SignInAsAsync(AcmeStudyLead);

        var preview = (await fixture.SendAsync(new PreviewProtocol.Query(_source, Protocol()))).Unwrap();

        // One person started both; one was removed by consent; three diclofenac users started in 2022.
        Assert.Equal(CellProtection.Suppressed, preview.Attrition[0].Both!.Protection);
        Assert.Null(preview.Attrition[0].Both!.Value);
        Assert.Equal(0, preview.Attrition[1].Both!.Value);
        Assert.Null(preview.RemovedByConsent.Value);
        Assert.Equal(["2020", "2021", "2022"], preview.TimeZero.Bins.Select(b => b.Period));
        var comparators = preview.TimeZero.Bins.Select(b => b.Comparator).Append(preview.TimeZero.Comparator).ToList();
        Assert.Null(preview.TimeZero.Bins[2].Comparator.Value);
        Assert.True(preview.TimeZero.Withheld || comparators.Count(c => c.Hidden) >= 2, "the 2022 cell cannot be found as the column total minus the rest");
        Assert.Null(preview.TimeZero.Bins[2].Total.Value);
        var everyNumber = preview.Attrition.SelectMany(s => new[] { s.Treatment, s.Comparator, s.Both, s.Total })
            .Concat(preview.TimeZero.Bins.SelectMany(b => new[] { b.Treatment, b.Comparator, b.Total }))
            .OfType<ProtectedCount>();
        Assert.All(everyNumber, c => Assert.True(c.Value is null or 0 or >= 11, $"{c.Display} shown"));
    }

    [Fact]
    public async Task The_outcome_is_not_read_two_outcomes_show_the_same_preview_and_its_concepts_are_not_in_the_audited_parameters()
    {
        await fixture.SignInAsAsync(AcmeStudyLead);

        var gi = (await fixture.SendAsync(new PreviewProtocol.Query(_source, Protocol()))).Unwrap();
        var other = (await fixture.SendAsync(new PreviewProtocol.Query(_source, Protocol(r =>
            r["outcome"]!["event"]!["concepts"] = new JsonArray(new JsonObject { ["id"] = 4134120 }))))).Unwrap();

        Assert.Equal(gi.Attrition, other.Attrition);
        Assert.Equal(gi.TimeZero.Bins, other.TimeZero.Bins);
        Assert.Equal(gi.TimeZero with { Bins = [] }, other.TimeZero with { Bins = [] });
        var audited = await fixture.OwnerSqlRowAsync<string>(
            "SELECT details::text FROM app.audit_event WHERE event_type = 'WarehouseQuery' AND tenant_id = @tenant AND details -> 'parameters' ->> 'source' = @source ORDER BY id DESC LIMIT 1",
            new { tenant = _acme, source = _source });
        Assert.Matches("\"sql_sha256\": \"[0-9a-f]{64}\"", audited);
        Assert.Contains("\"rows\": 28", audited, StringComparison.Ordinal);
        Assert.Contains("\"query\": \"protocol preview\"", audited, StringComparison.Ordinal);
        Assert.DoesNotContain("192671", audited, StringComparison.Ordinal);
        Assert.DoesNotContain("4134120", audited, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_tenant_finds_no_source_an_ungranted_purpose_is_refused_and_a_platform_admin_may_not_preview()
    {
        await fixture.SignInAsAsync(DemoSeeder.Email(DemoSeeder.Tenants[1], TenantRole.StudyLead));
        var northwind = await fixture.SendAsync(new PreviewProtocol.Query(_source, Protocol()));

        await fixture.SignInAsAsync(AcmeStudyLead);
        var recontact = await fixture.SendAsync(new PreviewProtocol.Query(_source, Protocol(), DataPurposes.Recontact));

        // Tenant admins read protocols (they review them, decision 0921); the platform Admin holds no tenant role.
        await fixture.SignInAsAsync(DemoSeeder.PlatformAdminEmail, secondFactor: true);
        var admin = await fixture.SendAsync(new PreviewProtocol.Query(_source, Protocol()));

        Assert.Equal("DataSource.NotFound", northwind.Error!.Code);
        Assert.Equal("Protocol.PurposeNotGranted", recontact.Error!.Code);
        Assert.Equal("Auth.Forbidden", admin.Error!.Code);
    }

    [Fact]
    public async Task A_crafted_protocol_is_refused_with_component_and_path_and_a_draft_without_an_outcome_previews()
    {
        await fixture.SignInAsAsync(AcmeStudyLead);

        var crafted = await fixture.SendAsync(new PreviewProtocol.Query(_source, Protocol(r =>
            r["strategies"]!["treatment"]!["concepts"]![0]!["id"] = "1; DROP TABLE person")));
        var overlapping = await fixture.SendAsync(new PreviewProtocol.Query(_source, Protocol(r =>
            r["strategies"]!["comparator"]!["concepts"]![0]!["id"] = 1118084)));
        var draft = await fixture.SendAsync(new PreviewProtocol.Query(_source, Protocol(r =>
        {
            r.Remove("outcome");
            r.Remove("analysisPlan");
            r["strategies"]!["treatment"]!["label"] = "celecoxib'); DROP TABLE person; --";
        })));

        Assert.Equal("Validation.Failed", crafted.Error!.Code);
        Assert.Contains("strategies: strategies.treatment.concepts[0].id", crafted.Error.Message, StringComparison.Ordinal);
        Assert.Equal("Validation.Failed", overlapping.Error!.Code);
        Assert.Contains("strategies.comparator.concepts[0].id", overlapping.Error.Message, StringComparison.Ordinal);
        Assert.Equal("celecoxib'); DROP TABLE person; --", draft.Unwrap().Treatment);
        Assert.Equal(32, await fixture.OwnerSqlRowAsync<long>($"SELECT count(*) FROM cdm_{_source}.person"));
    }
}
