using System.Globalization;
using System.Text;
using Npgsql;
using RwePortal.Analytics.Balance;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Subgroups;
using RwePortal.Application.Features.Tenancy;
using RwePortal.Application.Privacy;
using RwePortal.Application.Security;
using RwePortal.Application.Tenancy;
using RwePortal.Application.Tests.Infrastructure;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Application.Tests.Features.Subgroups;

/// <summary>
/// Table 1, comparison and CSV export through the mediator, as an analyst of a tenant granted the source, on a
/// 60-person source built so that small cells and their complements appear: persons 1–55 are men and 56–60 women;
/// 30 White, 25 Black, 5 Asian; all born 1960 and observed to 2024-12-31 (age 64 at the reference date); GI bleeding
/// (192671) in 1–20, type 2 diabetes (201826) in 1–55, myocardial infarction (4329847) in 1–3; an LVEF of p % for
/// persons p = 1–40 and an HbA1c for 1–4 only; ten worn wearable days in December 2024 for 1–30, with steps for 1–25
/// only. Research is under a waiver.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class CharacterizeSubgroupTests(AppFixture fixture) : IAsyncLifetime
{
    private const string Everyone = """{"version": 1, "criteria": []}""";
    private const string Bleeds = """{"version": 1, "criteria": [{"kind": "condition", "label": "GI bleed", "concepts": [{"id": 192671}]}]}""";
    private const int Lvef = 2000000101;
    private const int Hba1c = 3004410;
    private static readonly string AcmeAnalyst = DemoSeeder.Email(DemoSeeder.Tenants[0], TenantRole.Analyst);
    private readonly string _source = $"chr_{Guid.NewGuid():N}"[..16];
    private Guid _acme;

    public async Task InitializeAsync()
    {
        _acme = await fixture.TenantIdAsync("acme");
        await using var dataSource = NpgsqlDataSource.Create(fixture.Database.OwnerConnectionString);
        var registered = await new DataSourceRegistry(dataSource).AddAsync(_source, "characterization slice test source", CancellationToken.None);
        await fixture.OwnerSqlAsync($"""
            INSERT INTO cdm_{_source}.person (person_id, gender_concept_id, year_of_birth, race_concept_id, ethnicity_concept_id)
            SELECT g, CASE WHEN g <= 55 THEN 8507 ELSE 8532 END, 1960,
                   CASE WHEN g <= 30 THEN 8527 WHEN g <= 55 THEN 8516 ELSE 8515 END, 0
            FROM generate_series(1, 60) g;
            INSERT INTO cdm_{_source}.observation_period (observation_period_id, person_id, observation_period_start_date, observation_period_end_date, period_type_concept_id)
            SELECT g, g, DATE '2015-01-01', DATE '2024-12-31', 32817 FROM generate_series(1, 60) g;
            INSERT INTO cdm_{_source}.condition_occurrence (condition_occurrence_id, person_id, condition_concept_id, condition_start_date, condition_type_concept_id)
            SELECT g, g, 192671, DATE '2020-01-01', 32817 FROM generate_series(1, 20) g
            UNION ALL SELECT 100 + g, g, 201826, DATE '2019-01-01', 32817 FROM generate_series(1, 55) g
            UNION ALL SELECT 200 + g, g, 4329847, DATE '2018-01-01', 32817 FROM generate_series(1, 3) g;
            INSERT INTO cdm_{_source}.measurement (measurement_id, person_id, measurement_concept_id, measurement_date, measurement_type_concept_id, value_as_number, unit_concept_id)
            SELECT g, g, {Lvef}, DATE '2021-01-01', 32817, g, 8554 FROM generate_series(1, 40) g
            UNION ALL SELECT 100 + g, g, {Hba1c}, DATE '2021-01-01', 32817, 6 + g, 8554 FROM generate_series(1, 4) g;
            INSERT INTO cdm_{_source}.wearable_daily (person_id, measurement_date, device, steps, resting_hr, wear_minutes)
            SELECT p, DATE '2024-12-01' + d, 'watch', CASE WHEN p <= 25 THEN 4000 + 100 * p END, 60 + p, 600
            FROM generate_series(1, 30) p, generate_series(0, 9) d;
            INSERT INTO cdm_{_source}.concept (concept_id, concept_name, domain_id, vocabulary_id, concept_class_id, concept_code, valid_start_date, valid_end_date)
            VALUES (8507, 'MALE', 'Gender', 'Gender', 'Gender', 'M', DATE '1970-01-01', DATE '2099-12-31'),
                   (8532, 'FEMALE', 'Gender', 'Gender', 'Gender', 'F', DATE '1970-01-01', DATE '2099-12-31'),
                   (8554, 'percent', 'Unit', 'UCUM', 'Unit', '%', DATE '1970-01-01', DATE '2099-12-31');
            INSERT INTO gov.consent_model (source, purpose, model, reference, set_by) VALUES ('{_source}', 'research', 'waiver', 'IRB-TEST-1', 'test');
            """);
        await using var acme = await fixture.CreateDbContextAsync(_acme);
        acme.DataSourceGrants.Add(new TenantDataSourceGrant { TenantId = _acme, DataSourceId = registered.Id, Purposes = [DataPurposes.Research] });
        await acme.SaveChangesAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static Table1Row Row(SubgroupTable1 table, string section, string key) =>
        table.Sections.Single(s => s.Key == section).Rows.Single(r => r.Key == key);

    [Fact]
    public async Task Table1_shows_protected_counts_percentages_of_shown_numbers_and_the_same_persons_as_the_count()
    {
        await fixture.SignInAsAsync(AcmeAnalyst);

        var table = (await fixture.SendAsync(new CharacterizeSubgroup.Query(_source, Everyone))).Unwrap();
        var again = (await fixture.SendAsync(new CharacterizeSubgroup.Query(_source, Everyone))).Unwrap();
        var count = (await fixture.SendAsync(new CountSubgroup.Query(_source, Everyone))).Unwrap();

        Assert.Equal(CellProtection.Perturbed, table.Persons.Protection);
        Assert.InRange(table.Persons.Value!.Value, 60 - SmallCellPolicy.DefaultNoiseRange, 60 + SmallCellPolicy.DefaultNoiseRange);
        Assert.Equal(count.Count, table.Persons);
        Assert.Equal(
            table.Sections.SelectMany(s => s.Rows).Select(r => r.Count?.Display),
            again.Sections.SelectMany(s => s.Rows).Select(r => r.Count?.Display));
        var bleed = Row(table, "conditions", "192671");
        Assert.InRange(bleed.Count!.Value!.Value, 20 - 3, 20 + 3);
        Assert.Equal(Math.Round(100.0 * bleed.Count.Value!.Value / table.Persons.Value!.Value, 1), bleed.Percent);
        // Everyone is 64 at the end of observation (no index event): every member in one band, the persons count itself.
        Assert.Equal(table.Persons, Row(table, "age_band", "60-69").Count);
        Assert.Equal(64, Row(table, "age", "age").Distribution!.Median);
    }

    [Fact]
    public async Task Small_cells_and_the_complements_that_would_reveal_them_by_difference_are_hidden_with_their_statistics()
    {
        await fixture.SignInAsAsync(AcmeAnalyst);

        var table = (await fixture.SendAsync(new CharacterizeSubgroup.Query(_source, Everyone))).Unwrap();

        // Five women: "<11"; the 55 men would give them away as persons − men, so the men are hidden too.
        Assert.Equal("<11", Row(table, "sex", "8532").Count!.Display);
        Assert.Equal(CellProtection.Complementary, Row(table, "sex", "8507").Count!.Protection);
        // Race: 5 Asian hidden, the smallest other category (25 Black) hidden with it; White shown.
        Assert.Equal(CellProtection.Suppressed, Row(table, "race", "8515").Count!.Protection);
        Assert.Equal(CellProtection.Complementary, Row(table, "race", "8516").Count!.Protection);
        Assert.False(Row(table, "race", "8527").Count!.Hidden);
        // Diabetes in 55 of 60: shown, it would reveal the 5 without it; three infarctions are "<11".
        Assert.Equal(CellProtection.Complementary, Row(table, "conditions", "201826").Count!.Protection);
        Assert.Null(Row(table, "conditions", "201826").Percent);
        Assert.Equal("<11", Row(table, "conditions", "4329847").Count!.Display);
        // Four HbA1c values: no mean, sd or quartiles; the forty LVEF values are summarized (1..40: mean 20.5, median 20.5).
        var hba1c = Row(table, "measurements", $"{Hba1c}/8554").Distribution!;
        Assert.True(hba1c.N.Hidden);
        Assert.Equal([null, null, null, null, null], new[] { hba1c.Mean, hba1c.Sd, hba1c.P25, hba1c.Median, hba1c.P75 });
        var lvef = Row(table, "measurements", $"{Lvef}/8554").Distribution!;
        Assert.Equal((20.5, 20.5, 11.69), (lvef.Mean!.Value, lvef.Median!.Value, Math.Round(lvef.Sd!.Value, 2)));
        Assert.Equal("%", lvef.Unit);

        // 30 wearers, 25 with steps: the step row would give away the 5 wearers without a step count.
        Assert.InRange(Row(table, "wearables", "days_worn").Count!.Value!.Value, 27, 33);
        Assert.Equal(CellProtection.Complementary, Row(table, "wearables", "steps").Distribution!.N.Protection);
        Assert.Null(Row(table, "wearables", "steps").Distribution!.Mean);
        Assert.Equal(60 + 15.5, Row(table, "wearables", "resting_hr").Distribution!.Mean);

        // The attacker's differencing: in each partition, persons minus the shown categories bounds the hidden ones,
        // and never to one value when a single category is hidden (there is never exactly one).
        foreach (var section in table.Sections.Where(s => s.Key is "sex" or "race" or "ethnicity" or "age_band"))
        {
            Assert.NotEqual(1, section.Rows.Count(r => r.Count!.Hidden));
        }

        // No shown count anywhere is from 1 to 10, and no shown part leaves 1 to 10 persons without it.
        var shown = table.Sections.SelectMany(s => s.Rows).Select(r => r.Count ?? r.Distribution!.N).Where(c => !c.Hidden).Select(c => c.Value!.Value).ToList();
        Assert.All(shown, v => Assert.True(v == 0 || v >= 11, $"{v} shown"));
    }

    [Fact]
    public async Task A_tenant_with_a_higher_threshold_sees_its_own_threshold_in_the_table1()
    {
        var slug = $"t{Guid.NewGuid():N}"[..12];
        var tenant = Guid.NewGuid();
        await fixture.OwnerSqlAsync($"INSERT INTO app.tenants (id, name, slug, is_active, created_at) VALUES ('{tenant}', 'Tenant {slug}', '{slug}', true, now())");
        var (admin, analyst) = (AppFixture.UniqueEmail("admin"), AppFixture.UniqueEmail("analyst"));
        await fixture.CreateUserAsync(admin, tenant, TenantRole.TenantAdmin);
        await fixture.CreateUserAsync(analyst, tenant, TenantRole.Analyst);
        var sourceId = await fixture.OwnerSqlRowAsync<Guid>("SELECT id FROM app.data_sources WHERE name = @name", new { name = _source });
        await using (var db = await fixture.CreateDbContextAsync(tenant))
        {
            db.DataSourceGrants.Add(new TenantDataSourceGrant { TenantId = tenant, DataSourceId = sourceId, Purposes = [DataPurposes.Research] });
            await db.SaveChangesAsync();
        }

        await fixture.SignInAsAsync(admin, secondFactor: true);
        (await fixture.SendAsync(new SetSmallCellThreshold.Command(25))).Unwrap();
        await fixture.SignInAsAsync(analyst);
        var table = (await fixture.SendAsync(new CharacterizeSubgroup.Query(_source, Everyone))).Unwrap();

        // 20 GI bleeds are below 25: hidden, without a percentage; 30 White persons are shown.
        Assert.Equal("<25", Row(table, "conditions", "192671").Count!.Display);
        Assert.Null(Row(table, "conditions", "192671").Percent);
        Assert.False(Row(table, "race", "8527").Count!.Hidden);
        Assert.All(
            table.Sections.SelectMany(s => s.Rows).Select(r => r.Count ?? r.Distribution!.N).Where(c => !c.Hidden),
            c => Assert.True(c.Value == 0 || c.Value >= 25, $"{c.Display} shown"));
    }

    [Fact]
    public async Task Comparison_gives_standardized_differences_computed_by_hand_and_none_where_a_cell_is_hidden()
    {
        await fixture.SignInAsAsync(AcmeAnalyst);

        var response = (await fixture.SendAsync(new CompareSubgroups.Query(_source, Bleeds, Everyone))).Unwrap();

        // GI bleed, exactly 20/20 vs 20/60 (an SMD of 2), is computed from the SHOWN counts and totals (keyed noise of ±3),
        // so that it cannot be solved for the exact counts: (pA − pB) / √((pA(1 − pA) + pB(1 − pB)) / 2), by hand.
        var bleed = response.Rows.Single(r => r.SectionKey == "conditions" && r.RowKey == "192671");
        double Shown(Table1Row row, SubgroupTable1 table) => Math.Min(1.0, (double)row.Count!.Value!.Value / table.Persons.Value!.Value);
        var (pA, pB) = (Shown(bleed.A!, response.A), Shown(bleed.B!, response.B));
        var byHand = (pA - pB) / Math.Sqrt(((pA * (1 - pA)) + (pB * (1 - pB))) / 2);
        Assert.Equal(Math.Round(byHand, 2), bleed.Smd);
        Assert.InRange(bleed.Smd!.Value, 1.4, 2.6);
        // LVEF 1..20 vs 1..40: means 10.5 and 20.5, sample variances n(n + 1)/12 = 35 and 136.67: −10 / √85.83 = −1.079, shown as −1.08.
        var lvef = response.Rows.Single(r => r.SectionKey == "measurements" && r.RowKey == $"{Lvef}/8554");
        Assert.Equal(-1.08, lvef.Smd);
        // Infarction: "<11" on both sides; diabetes: 20 of 20 vs a hidden 55 of 60: no difference shown.
        Assert.Null(response.Rows.Single(r => r.RowKey == "4329847").Smd);
        Assert.Null(response.Rows.Single(r => r.SectionKey == "conditions" && r.RowKey == "201826").Smd);
        Assert.Equal(response.A.Sections.SelectMany(s => s.Rows).Count(), response.Rows.Count);
        Assert.Equal(response.B.Sections.SelectMany(s => s.Rows).Count(), response.Rows.Count);
    }

    [Fact]
    public void Standardized_differences_are_the_statistics_engines_balance_definition()
    {
        // The same GI-bleed and LVEF rows, person by person, through CovariateBalance (weights of 1: "before").
        var bleed = CovariateBalance.Compute(
            "bleed",
            Enumerable.Repeat(1.0, 20).Concat(Enumerable.Repeat(1.0, 20)).Concat(Enumerable.Repeat(0.0, 40)).ToArray(),
            Enumerable.Repeat(1, 20).Concat(Enumerable.Repeat(0, 60)).ToArray(),
            Enumerable.Repeat(1.0, 80).ToArray());
        var lvef = CovariateBalance.Compute(
            "lvef",
            Enumerable.Range(1, 20).Concat(Enumerable.Range(1, 40)).Select(v => (double)v).ToArray(),
            Enumerable.Repeat(1, 20).Concat(Enumerable.Repeat(0, 40)).ToArray(),
            Enumerable.Repeat(1.0, 60).ToArray());

        Assert.Equal(bleed.SmdBefore, StandardizedDifference.OfProportions(1.0, 20.0 / 60)!.Value, 12);
        Assert.Equal(lvef.SmdBefore, StandardizedDifference.OfMeans(10.5, Math.Sqrt(35), 20.5, Math.Sqrt(40 * 41 / 12.0))!.Value, 12);
        Assert.Equal(0, StandardizedDifference.OfProportions(0, 0));
        Assert.Null(StandardizedDifference.OfProportions(0, 1));
    }

    [Fact]
    public async Task Csv_export_holds_only_protected_numbers_and_the_comparison_its_differences()
    {
        await fixture.SignInAsAsync(AcmeAnalyst);

        var single = (await fixture.SendAsync(new ExportSubgroupCharacterization.Query(_source, Everyone, null, DataPurposes.Research))).Unwrap();
        var compared = (await fixture.SendAsync(new ExportSubgroupCharacterization.Query(_source, Bleeds, Everyone, DataPurposes.Research))).Unwrap();

        Assert.Equal("text/csv", single.ContentType);
        Assert.EndsWith(".csv", single.FileName, StringComparison.Ordinal);
        var lines = Encoding.UTF8.GetString(single.Content).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("section,section_title,row_key,label,count,count_shown,percent,n,n_shown,mean", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("persons,Persons,persons,Persons,", lines[1], StringComparison.Ordinal);
        // The five women: no number, only "<11"; the men: "—"; HbA1c: no statistics.
        Assert.Equal("sex,Sex,8532,FEMALE,,<11,,,,,,,,,", lines.Single(l => l.StartsWith("sex,Sex,8532,", StringComparison.Ordinal)));
        Assert.StartsWith("sex,Sex,8507,MALE,,—,", lines.Single(l => l.StartsWith("sex,Sex,8507,", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Matches($"^measurements,[^,]*,{Hba1c}/8554,[^,]*,,,,,<11,,,,,,%$", lines.Single(l => l.Contains($",{Hba1c}/8554,", StringComparison.Ordinal)));
        var lvef = lines.Single(l => l.Contains($",{Lvef}/8554,", StringComparison.Ordinal)).Split(',');
        Assert.Equal("20.5", lvef[9]);
        var comparison = Encoding.UTF8.GetString(compared.Content).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.EndsWith(",unit,smd", comparison[0], StringComparison.Ordinal);
        // The GI-bleed SMD is the comparison's own (from the shown counts): the file and the screen say the same.
        var shownSmd = (await fixture.SendAsync(new CompareSubgroups.Query(_source, Bleeds, Everyone))).Unwrap()
            .Rows.Single(r => r.SectionKey == "conditions" && r.RowKey == "192671").Smd!.Value;
        var bleedLine = comparison.Single(l => l.StartsWith("conditions,", StringComparison.Ordinal) && l.Contains(",192671,", StringComparison.Ordinal));
        Assert.Equal(shownSmd, double.Parse(bleedLine.Split(',')[^1], CultureInfo.InvariantCulture));
        Assert.Equal(-1.08, double.Parse(comparison.Single(l => l.Contains($",{Lvef}/8554,", StringComparison.Ordinal)).Split(',')[^1], CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Another_tenant_without_a_grant_finds_no_source_for_any_of_the_three_and_a_crafted_definition_is_refused()
    {
        await fixture.SignInAsAsync(DemoSeeder.Email(DemoSeeder.Tenants[1], TenantRole.Analyst));

        var characterize = await fixture.SendAsync(new CharacterizeSubgroup.Query(_source, Everyone));
        var compare = await fixture.SendAsync(new CompareSubgroups.Query(_source, Everyone, Bleeds));
        var export = await fixture.SendAsync(new ExportSubgroupCharacterization.Query(_source, Everyone, null, DataPurposes.Research));
        await fixture.SignInAsAsync(AcmeAnalyst);
        var recontact = await fixture.SendAsync(new CharacterizeSubgroup.Query(_source, Everyone, DataPurposes.Recontact));
        var crafted = await fixture.SendAsync(new CompareSubgroups.Query(
            _source, Everyone, """{"version": 1, "criteria": [{"kind": "condition", "concepts": [{"id": "1); DROP TABLE person; --"}]}]}"""));

        Assert.Equal("DataSource.NotFound", characterize.Error!.Code);
        Assert.Equal("DataSource.NotFound", compare.Error!.Code);
        Assert.Equal("DataSource.NotFound", export.Error!.Code);
        Assert.Equal("Subgroup.PurposeNotGranted", recontact.Error!.Code);
        Assert.Equal("Validation.Failed", crafted.Error!.Code);
        Assert.Contains("B: criteria[0]", crafted.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_characterization_is_on_the_tenants_audit_trail_with_its_statement_hash_and_exact_persons()
    {
        await fixture.SignInAsAsync(AcmeAnalyst);

        (await fixture.SendAsync(new CharacterizeSubgroup.Query(_source, Bleeds))).Unwrap();

        var details = await fixture.OwnerSqlRowAsync<string>(
            "SELECT details::text FROM app.audit_event WHERE event_type = 'WarehouseQuery' AND tenant_id = @tenant AND details -> 'parameters' ->> 'source' = @source AND details -> 'parameters' ->> 'kind' = 'characterization' ORDER BY id DESC LIMIT 1",
            new { tenant = _acme, source = _source });
        Assert.Matches("\"sql_sha256\": \"[0-9a-f]{64}\"", details);
        Assert.Contains("\"rows\": 20", details, StringComparison.Ordinal);
        Assert.Contains("\"purpose\": \"research\"", details, StringComparison.Ordinal);
    }
}
