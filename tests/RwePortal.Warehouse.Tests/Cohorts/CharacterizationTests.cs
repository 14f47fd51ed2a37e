using CsCheck;
using Dapper;
using Npgsql;
using RwePortal.Warehouse.Cohorts;
using RwePortal.Warehouse.Cohorts.Characterization;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Warehouse.Tests.Cohorts;

/// <summary>
/// Table 1 aggregates, run as the read-only warehouse role, against queries written by hand in another shape (correlated
/// subqueries, window functions instead of DISTINCT ON), run as the owner: on Eunomia (sex, top conditions, age) and on
/// the generated source (variant carriers, wearables, PRO scores, visits and cost).
/// </summary>
[Collection(CohortWarehouseCollection.Name)]
public sealed class CharacterizationTests(CohortWarehouseFixture fixture)
{
    private const string FirstUseDefinition = """
        {"version": 1, "index": {"kind": "drug", "concepts": [{"id": 2000000402}, {"id": 1341927}], "occurrence": "first"}, "criteria": []}
        """;

    // The consented members of FirstUseDefinition with their index dates.
    private const string FirstUseMembers = """
        SELECT f.person_id, f.d
        FROM (SELECT person_id, min(drug_exposure_start_date) AS d FROM cdm_syn.drug_exposure
              WHERE drug_concept_id IN (2000000402, 1341927) GROUP BY person_id) f
        WHERE f.person_id IN (SELECT person_id FROM gov.consented_persons('syn', 'research'))
        """;

    // Eunomia's GI-bleed persons (no index): the reference date is the end of their last observation period.
    private const string GiBleedMembers = """
        SELECT p.person_id, (SELECT max(op.observation_period_end_date) FROM cdm_eunomia.observation_period op WHERE op.person_id = p.person_id) AS d
        FROM cdm_eunomia.person p
        WHERE EXISTS (SELECT 1 FROM cdm_eunomia.condition_occurrence co
                      JOIN cdm_eunomia.concept_ancestor ca ON ca.descendant_concept_id = co.condition_concept_id AND ca.ancestor_concept_id = 192671
                      WHERE co.person_id = p.person_id)
        """;

    private Task<SubgroupCharacterization> CharacterizeAsync(DataSource source, string json, IReadOnlyCollection<string>? include = null) =>
        new SubgroupCharacterizer(fixture.Reader).CharacterizeAsync(CohortWarehouseFixture.Definition(json), source, "research", include, CancellationToken.None);

    private async Task<List<(string Key, long N)>> OwnerPairsAsync(string sql)
    {
        await using var connection = await fixture.Owner.OpenConnectionAsync();
        return (await connection.QueryAsync<(string, long)>(sql)).ToList();
    }

    private async Task<(long N, double Mean, double Sd, double Median)> OwnerStatisticsAsync(string valuesSql)
    {
        await using var connection = await fixture.Owner.OpenConnectionAsync();
        var values = (await connection.QueryAsync<double>(valuesSql)).Order().ToArray();
        var mean = values.Average();
        var sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
        // The median by hand: the middle value, or the mean of the two middle values.
        var median = values.Length % 2 == 1 ? values[values.Length / 2] : (values[(values.Length / 2) - 1] + values[values.Length / 2]) / 2;
        return (values.Length, mean, sd, median);
    }

    private static void AssertDistribution((long N, double Mean, double Sd, double Median) expected, CharacterizationRow row)
    {
        Assert.Equal(expected.N, row.Persons);
        Assert.Equal(expected.Mean, row.Mean!.Value, 6);
        Assert.Equal(expected.Sd, row.Sd!.Value, 6);
        Assert.Equal(expected.Median, row.Median!.Value, 6);
        Assert.True(row.P25 <= row.Median && row.Median <= row.P75, "quartiles in order");
    }

    private static List<CharacterizationRow> Section(SubgroupCharacterization c, string key) => c.Rows.Where(r => r.Section == key).ToList();

    [Fact]
    public async Task Eunomia_gi_bleed_persons_by_sex_match_a_hand_written_count()
    {
        var expected = await OwnerPairsAsync($"""
            SELECT CAST(p.gender_concept_id AS text), count(*) FROM ({GiBleedMembers}) m JOIN cdm_eunomia.person p ON p.person_id = m.person_id
            GROUP BY p.gender_concept_id
            """);

        var table = await CharacterizeAsync(fixture.EunomiaSource, Examples.Read("eunomia-gi-bleed.json"));

        var sex = Section(table, "sex");
        Assert.Equal(expected.OrderBy(e => e.Key).ToList(), sex.Select(r => (r.Key, r.Persons)).OrderBy(e => e.Key).ToList());
        Assert.Equal(table.Persons, sex.Sum(r => r.Persons));
        Assert.Contains(sex, r => r.Label == "FEMALE" || r.Label == "Female");
        Assert.Equal(expected.Sum(e => e.N), table.Persons);
    }

    [Fact]
    public async Task Eunomia_top_conditions_are_the_20_most_frequent_on_or_before_the_reference_date()
    {
        var expected = await OwnerPairsAsync($"""
            SELECT CAST(c.concept_id AS text), (SELECT count(*) FROM ({GiBleedMembers}) m
                                                WHERE EXISTS (SELECT 1 FROM cdm_eunomia.condition_occurrence co
                                                              WHERE co.person_id = m.person_id AND co.condition_concept_id = c.concept_id
                                                                AND co.condition_start_date <= m.d)) AS n
            FROM (SELECT DISTINCT condition_concept_id AS concept_id FROM cdm_eunomia.condition_occurrence WHERE condition_concept_id <> 0) c
            ORDER BY n DESC, c.concept_id LIMIT 20
            """);

        var table = await CharacterizeAsync(fixture.EunomiaSource, Examples.Read("eunomia-gi-bleed.json"));

        var conditions = Section(table, "conditions");
        Assert.Equal(expected, conditions.Select(r => (r.Key, r.Persons)).ToList());
        Assert.Equal(Enumerable.Range(1, 20), conditions.Select(r => r.Rank));
        Assert.All(conditions, r => Assert.DoesNotContain("concept ", r.Label, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Eunomia_age_at_the_end_of_observation_without_an_index_matches_a_hand_computed_distribution()
    {
        var expected = await OwnerStatisticsAsync($"""
            SELECT CAST(extract(year FROM m.d) AS integer) - p.year_of_birth FROM ({GiBleedMembers}) m JOIN cdm_eunomia.person p ON p.person_id = m.person_id
            """);
        var bands = await OwnerPairsAsync($"""
            SELECT CASE WHEN a >= 90 THEN '90-' ELSE (a / 10 * 10) || '-' || (a / 10 * 10 + 9) END, count(*)
            FROM (SELECT CAST(extract(year FROM m.d) AS integer) - p.year_of_birth AS a FROM ({GiBleedMembers}) m JOIN cdm_eunomia.person p ON p.person_id = m.person_id) x
            GROUP BY 1
            """);

        var table = await CharacterizeAsync(fixture.EunomiaSource, Examples.Read("eunomia-gi-bleed.json"));

        AssertDistribution(expected, Section(table, "age").Single());
        Assert.Equal(bands.OrderBy(b => b.Key).ToList(), Section(table, "age_band").Select(r => (r.Key, r.Persons)).OrderBy(b => b.Key).ToList());
    }

    [Fact]
    public async Task Eunomia_new_users_are_characterized_at_their_index_date_and_number_the_count()
    {
        var json = Examples.Read("eunomia-celecoxib-new-users.json");
        var count = await fixture.CountAsync(fixture.EunomiaSource, json);

        var table = await CharacterizeAsync(fixture.EunomiaSource, json);

        Assert.Equal(count.Count, table.Persons);
        Assert.Equal(table.Persons, Section(table, "age").Single().Persons);
        // Celecoxib is each new user's index drug, so every member has a drug on or before index.
        Assert.Equal(table.Persons, Section(table, "drugs")[0].Persons);
    }

    [Fact]
    public async Task Synthetic_variant_carriers_by_gene_and_significance_match_a_hand_written_count()
    {
        var expected = await OwnerPairsAsync($"""
            SELECT pair, count(*) FROM (
                SELECT DISTINCT m.person_id, v.gene_symbol || '/' || coalesce(v.clinical_significance, 'not classified') AS pair
                FROM ({FirstUseMembers}) m, cdm_syn.variant_occurrence v
                WHERE v.person_id = m.person_id AND v.gene_symbol IS NOT NULL AND (v.sample_date IS NULL OR v.sample_date <= m.d)) carriers
            GROUP BY pair
            """);

        var table = await CharacterizeAsync(fixture.SyntheticSource, FirstUseDefinition);

        var variants = Section(table, "variants");
        Assert.Contains(variants, r => r.Key == "TTR/pathogenic" && r.Persons > 0);
        Assert.Equal(
            expected.OrderByDescending(e => e.N).ThenBy(e => e.Key, StringComparer.Ordinal).Take(SubgroupCharacterizer.TopVariants).OrderBy(e => e.Key, StringComparer.Ordinal).ToList(),
            variants.Select(r => (r.Key, r.Persons)).OrderBy(e => e.Key, StringComparer.Ordinal).ToList());
    }

    [Fact]
    public async Task Synthetic_mean_daily_steps_over_the_90_days_before_index_match_a_day_by_day_query()
    {
        var expected = await OwnerStatisticsAsync($"""
            SELECT (SELECT avg(day_steps) FROM (SELECT avg(w.steps) AS day_steps FROM cdm_syn.wearable_daily w
                                                WHERE w.person_id = m.person_id AND w.wear_minutes > 0
                                                  AND w.measurement_date >= m.d - 90 AND w.measurement_date < m.d
                                                GROUP BY w.measurement_date) d)
            FROM ({FirstUseMembers}) m
            WHERE EXISTS (SELECT 1 FROM cdm_syn.wearable_daily w WHERE w.person_id = m.person_id AND w.wear_minutes > 0 AND w.steps IS NOT NULL
                            AND w.measurement_date >= m.d - 90 AND w.measurement_date < m.d)
            """);
        var daysWorn = await OwnerStatisticsAsync($"""
            SELECT count(DISTINCT w.measurement_date) FROM ({FirstUseMembers}) m JOIN cdm_syn.wearable_daily w ON w.person_id = m.person_id
            WHERE w.wear_minutes > 0 AND w.measurement_date >= m.d - 90 AND w.measurement_date < m.d
            GROUP BY m.person_id
            """);

        var table = await CharacterizeAsync(fixture.SyntheticSource, FirstUseDefinition);

        var wearables = Section(table, "wearables");
        Assert.True(expected.N > 100, $"the generated source has wearers ({expected.N})");
        AssertDistribution(expected, wearables.Single(r => r.Key == "steps"));
        AssertDistribution(daysWorn, wearables.Single(r => r.Key == "days_worn"));
        Assert.Equal(CharacterizationRowKind.Share, wearables.Single(r => r.Key == "days_worn").Kind);
        Assert.All(wearables.Where(r => r.Key is "resting_hr" or "hrv" or "sleep"), r => Assert.Equal(expected.N, r.Persons));
    }

    [Fact]
    public async Task Synthetic_latest_kccq_on_or_before_index_matches_a_window_function_query()
    {
        var expected = await OwnerStatisticsAsync($"""
            SELECT value_as_number FROM (
                SELECT o.value_as_number, row_number() OVER (PARTITION BY m.person_id ORDER BY o.observation_date DESC, o.observation_id DESC) AS r
                FROM ({FirstUseMembers}) m JOIN cdm_syn.observation o ON o.person_id = m.person_id
                WHERE o.observation_concept_id = 2000000501 AND o.observation_date <= m.d AND o.value_as_number IS NOT NULL) x
            WHERE r = 1
            """);

        var table = await CharacterizeAsync(fixture.SyntheticSource, FirstUseDefinition);

        var kccq = Section(table, "pro").Single(r => r.Key == "2000000501");
        AssertDistribution(expected, kccq);
        Assert.StartsWith("Kansas City Cardiomyopathy Questionnaire", kccq.Label, StringComparison.Ordinal);
        Assert.DoesNotContain(Section(table, "measurements"), r => r.Key.StartsWith("2000000501/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Synthetic_latest_lvef_on_or_before_index_matches_a_window_function_query()
    {
        var expected = await OwnerStatisticsAsync($"""
            SELECT value_as_number FROM (
                SELECT me.value_as_number, row_number() OVER (PARTITION BY m.person_id ORDER BY me.measurement_date DESC, me.measurement_id DESC) AS r
                FROM ({FirstUseMembers}) m JOIN cdm_syn.measurement me ON me.person_id = m.person_id
                WHERE me.measurement_concept_id = 2000000201 AND me.unit_concept_id = 8554 AND me.measurement_date <= m.d AND me.value_as_number IS NOT NULL) x
            WHERE r = 1
            """);

        var table = await CharacterizeAsync(fixture.SyntheticSource, FirstUseDefinition);

        var lvef = Section(table, "measurements").Single(r => r.Key == "2000000201/8554");
        AssertDistribution(expected, lvef);
        Assert.Equal("%", lvef.Unit);
        Assert.Equal(CharacterizationRowKind.Distribution, lvef.Kind);
    }

    [Fact]
    public async Task Synthetic_prior_year_paid_and_visits_match_hand_written_sums_through_the_costed_events()
    {
        var paid = await OwnerStatisticsAsync($"""
            SELECT total FROM (
                SELECT coalesce((SELECT sum(c.total_paid) FROM cdm_syn.visit_occurrence v JOIN cdm_syn.cost c ON c.cost_event_id = v.visit_occurrence_id AND c.cost_domain_id = 'Visit'
                                 WHERE v.person_id = m.person_id AND v.visit_start_date >= m.d - 365 AND v.visit_start_date < m.d), 0)
                     + coalesce((SELECT sum(c.total_paid) FROM cdm_syn.drug_exposure d JOIN cdm_syn.cost c ON c.cost_event_id = d.drug_exposure_id AND c.cost_domain_id = 'Drug'
                                 WHERE d.person_id = m.person_id AND d.drug_exposure_start_date >= m.d - 365 AND d.drug_exposure_start_date < m.d), 0) AS total,
                       EXISTS (SELECT 1 FROM cdm_syn.visit_occurrence v JOIN cdm_syn.cost c ON c.cost_event_id = v.visit_occurrence_id AND c.cost_domain_id = 'Visit'
                               WHERE v.person_id = m.person_id AND v.visit_start_date >= m.d - 365 AND v.visit_start_date < m.d AND c.total_paid IS NOT NULL)
                    OR EXISTS (SELECT 1 FROM cdm_syn.drug_exposure d JOIN cdm_syn.cost c ON c.cost_event_id = d.drug_exposure_id AND c.cost_domain_id = 'Drug'
                               WHERE d.person_id = m.person_id AND d.drug_exposure_start_date >= m.d - 365 AND d.drug_exposure_start_date < m.d AND c.total_paid IS NOT NULL) AS costed
                FROM ({FirstUseMembers}) m) x
            WHERE costed
            """);
        var emergency = await OwnerStatisticsAsync($"""
            SELECT count(*) FROM ({FirstUseMembers}) m JOIN cdm_syn.visit_occurrence v ON v.person_id = m.person_id
            WHERE v.visit_concept_id = 9203 AND v.visit_start_date >= m.d - 365 AND v.visit_start_date < m.d
            GROUP BY m.person_id
            """);

        var table = await CharacterizeAsync(fixture.SyntheticSource, FirstUseDefinition);

        AssertDistribution(paid, Section(table, "cost").Single());
        Assert.Equal("USD", Section(table, "cost").Single().Unit);
        AssertDistribution(emergency, Section(table, "visits").Single(r => r.Key == "9203"));
    }

    [Fact]
    public async Task Members_are_the_consented_persons_the_count_counts_and_withdrawn_persons_are_not_characterized()
    {
        var count = await fixture.CountAsync(fixture.SyntheticSource, FirstUseDefinition);
        var members = await fixture.OwnerCountAsync($"SELECT count(*) FROM ({FirstUseMembers}) m");

        var table = await CharacterizeAsync(fixture.SyntheticSource, FirstUseDefinition);

        Assert.True(count.RemovedByConsent > 0, "consent removes some new users");
        Assert.Equal(members, table.Persons);
        Assert.Equal(count.Count, table.Persons);
        Assert.Equal(table.Persons, Section(table, "sex").Sum(r => r.Persons));
    }

    [Fact]
    public async Task Rows_named_for_a_comparison_come_back_outside_the_top_list_and_the_statement_takes_them_as_a_parameter()
    {
        var top = await CharacterizeAsync(fixture.EunomiaSource, Examples.Read("eunomia-gi-bleed.json"));
        var all = await OwnerPairsAsync($"""
            SELECT CAST(co.condition_concept_id AS text), count(DISTINCT m.person_id)
            FROM ({GiBleedMembers}) m JOIN cdm_eunomia.condition_occurrence co ON co.person_id = m.person_id AND co.condition_start_date <= m.d
            WHERE co.condition_concept_id <> 0
            GROUP BY co.condition_concept_id ORDER BY 2 ASC, 1 DESC LIMIT 1
            """);
        var rare = all.Single();
        var include = new[] { "conditions:" + rare.Key, "conditions:1' OR '1'='1" };

        var widened = await CharacterizeAsync(fixture.EunomiaSource, Examples.Read("eunomia-gi-bleed.json"), include);
        var compiled = SubgroupCharacterizer.Compile(CohortWarehouseFixture.Definition(Examples.Read("eunomia-gi-bleed.json")), fixture.EunomiaSource, "research", include);

        Assert.DoesNotContain(Section(top, "conditions"), r => r.Key == rare.Key);
        Assert.Equal(rare.N, Section(widened, "conditions").Single(r => r.Key == rare.Key).Persons);
        Assert.Equal(21, Section(widened, "conditions").Count);
        Assert.DoesNotContain("OR '1'='1", compiled.Sql, StringComparison.Ordinal);
        Assert.Contains(SubgroupCompiler.ConsentFilter, compiled.Sql, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_portals_own_role_cannot_run_a_characterization_and_the_reader_cannot_write_through_it()
    {
        await using var asApp = WarehouseConnections.Create(fixture.Database.AppConnectionString);
        var definition = CohortWarehouseFixture.Definition(FirstUseDefinition);

        var denied = await Assert.ThrowsAsync<PostgresException>(() =>
            new SubgroupCharacterizer(asApp).CharacterizeAsync(definition, fixture.SyntheticSource, "research", null, CancellationToken.None));
        await using var reader = await fixture.Reader.OpenAsync(CancellationToken.None);
        var readOnly = await Assert.ThrowsAsync<PostgresException>(() => reader.ExecuteAsync("CREATE TEMP TABLE members (person_id bigint)"));

        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, denied.SqlState);
        Assert.Equal(PostgresErrorCodes.ReadOnlySqlTransaction, readOnly.SqlState);
    }

    private static Gen<string> Leaf(bool indexed) => Gen.OneOf(
        Gen.OneOf("condition", "drug", "measurement", "visit").SelectMany(kind =>
            Gen.OneOf(192671, 28060, 1118084, 1124300, 80180, 260139, 9201, 9202, 9203, 3025315).SelectMany(id =>
                Gen.Int[-730, -1].Select(start => indexed
                    ? $$$"""{"kind": "{{{kind}}}", "concepts": [{"id": {{{id}}}}], "window": {"start": {{{start}}}, "end": 0}}"""
                    : $$$"""{"kind": "{{{kind}}}", "concepts": [{"id": {{{id}}}}]}"""))),
        Gen.OneOf(8507, 8532).Select(sex => $$"""{"kind": "sex", "concepts": [{{sex}}]}"""),
        Gen.Int[20, 70].Select(age => indexed ? $$"""{"kind": "age", "min": {{age}}}""" : """{"kind": "race", "concepts": [8527, 8516]}"""));

    private static Gen<string> Definitions => Gen.Bool.SelectMany(indexed => Gen.Frequency(
            (3, Leaf(indexed)),
            (1, Leaf(indexed).Array[1, 3].Select(nodes => $$"""{"any": [{{string.Join(",", nodes)}}]}""")),
            (1, Leaf(indexed).Select(node => $$"""{"not": {{node}}}""")))
        .Array[0, 3].Select(criteria => indexed
            ? $$"""{"version": 1, "index": {"kind": "drug", "concepts": [{"id": 1118084}]}, "criteria": [{{string.Join(",", criteria)}}]}"""
            : $$"""{"version": 1, "criteria": [{{string.Join(",", criteria)}}]}"""));

    [Fact]
    public async Task Random_definitions_characterize_without_sql_errors_their_persons_are_the_count_and_partitions_add_up()
    {
        var characterized = 0;
        await Definitions.SampleAsync(async json =>
        {
            try
            {
                var count = await fixture.CountAsync(fixture.EunomiaSource, json);
                var table = await CharacterizeAsync(fixture.EunomiaSource, json);

                Assert.Equal(count.Count, table.Persons);
                foreach (var section in SubgroupCharacterizer.Sections.Where(s => s.Kind == CharacterizationRowKind.Partition))
                {
                    Assert.Equal(table.Persons, Section(table, section.Key).Sum(r => r.Persons));
                }

                Assert.All(table.Rows, r => Assert.InRange(r.Persons, 0, table.Persons));
                var conditions = Section(table, "conditions");
                Assert.True(conditions.Zip(conditions.Skip(1)).All(p => p.First.Persons >= p.Second.Persons), "top conditions in order");
                characterized++;
            }
            catch (PostgresException e)
            {
                Assert.Fail($"SQL error {e.SqlState} {e.MessageText} for {json}");
            }
        }, iter: 25, threads: 1);

        Assert.Equal(25, characterized);
    }
}
