using Dapper;
using RwePortal.Warehouse.Vocabulary;

namespace RwePortal.Warehouse.Tests.Synthetic;

[CollectionDefinition(Name)]
public sealed class SyntheticWarehouseCollection : ICollectionFixture<SyntheticWarehouseFixture>
{
    public const string Name = "synthetic warehouse";
}

/// <summary>The generated sources in PostgreSQL: every modality present, determinism, vocabulary, consent, wearables.</summary>
[Collection(SyntheticWarehouseCollection.Name)]
public sealed class SyntheticWarehouseTests(SyntheticWarehouseFixture fixture)
{
    private static readonly string[] PersonTables =
    [
        "person", "observation_period", "visit_occurrence", "condition_occurrence", "drug_exposure", "measurement",
        "observation", "cost", "payer_plan_period", "death", "variant_occurrence", "genomic_score", "wearable_daily", "wearable_hourly",
    ];

    [Fact]
    public async Task Every_modality_has_rows_in_every_table_it_should()
    {
        await using var connection = await fixture.DataSource.OpenConnectionAsync();
        foreach (var table in PersonTables)
        {
            var rows = await connection.ExecuteScalarAsync<long>($"SELECT count(*) FROM cdm_syn.{table}");
            Assert.True(rows > 0, $"cdm_syn.{table} is empty");
        }

        Assert.True(await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM gov.consent WHERE source = 'syn'") > 0);
        Assert.Equal(SyntheticWarehouseFixture.AnalysisPersons, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM cdm_syn.person"));

        // Claims: paid amounts everywhere, DRGs on inpatient stays only.
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM cdm_syn.cost WHERE total_paid IS NULL OR paid_by_payer + paid_by_patient <> total_paid"));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
            """
            SELECT count(*) FROM cdm_syn.cost c JOIN cdm_syn.visit_occurrence v ON c.cost_domain_id = 'Visit' AND v.visit_occurrence_id = c.cost_event_id
            WHERE (v.visit_concept_id = 9201) <> (c.drg_source_value IS NOT NULL)
            """));
        // Measurements carry units and values.
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM cdm_syn.measurement WHERE value_as_number IS NULL OR unit_concept_id IS NULL"));
    }

    [Fact]
    public async Task The_same_seed_loads_identical_tables_whatever_the_batch_size_or_parallelism()
    {
        await using var connection = await fixture.DataSource.OpenConnectionAsync();
        foreach (var table in PersonTables.Concat(VocabularyLoader.Tables))
        {
            var a = await connection.ExecuteScalarAsync<string>($"SELECT md5(string_agg(t::text, E'\\n' ORDER BY t::text)) FROM cdm_syn_a.{table} t");
            var b = await connection.ExecuteScalarAsync<string>($"SELECT md5(string_agg(t::text, E'\\n' ORDER BY t::text)) FROM cdm_syn_b.{table} t");
            Assert.True(a == b, $"{table} differs between two runs with the same seed");
        }

        const string Consent = "SELECT md5(string_agg(x, E'\\n' ORDER BY x)) FROM (SELECT (person_id, purpose, status, effective_from, effective_to, recorded_at, recorded_by, reason)::text AS x FROM gov.consent WHERE source = @source) s";
        Assert.Equal(
            await connection.ExecuteScalarAsync<string>(Consent, new { source = "syn_a" }),
            await connection.ExecuteScalarAsync<string>(Consent, new { source = "syn_b" }));
        Assert.NotEqual(
            await connection.ExecuteScalarAsync<string>("SELECT md5(string_agg(t::text, E'\\n' ORDER BY t::text)) FROM cdm_syn_a.measurement t"),
            await connection.ExecuteScalarAsync<string>("SELECT md5(string_agg(t::text, E'\\n' ORDER BY t::text)) FROM (SELECT * FROM cdm_syn.measurement WHERE person_id <= 2000) t"));
    }

    [Fact]
    public async Task Heart_failure_and_its_descendants_find_every_person_through_concept_ancestor()
    {
        await using var connection = await fixture.DataSource.OpenConnectionAsync();
        var concepts = await connection.ExecuteScalarAsync<long>(
            """
            SELECT count(DISTINCT co.condition_concept_id)
            FROM cdm_syn.condition_occurrence co
            JOIN cdm_syn.concept_ancestor ca ON ca.descendant_concept_id = co.condition_concept_id
            WHERE ca.ancestor_concept_id = @hf
            """,
            new { hf = ConceptIds.HeartFailure });
        var persons = await connection.ExecuteScalarAsync<long>(
            """
            SELECT count(DISTINCT co.person_id)
            FROM cdm_syn.condition_occurrence co
            JOIN cdm_syn.concept_ancestor ca ON ca.descendant_concept_id = co.condition_concept_id
            WHERE ca.ancestor_concept_id = @hf
            """,
            new { hf = ConceptIds.HeartFailure });
        var exactOnly = await connection.ExecuteScalarAsync<long>(
            "SELECT count(DISTINCT person_id) FROM cdm_syn.condition_occurrence WHERE condition_concept_id = @hf",
            new { hf = ConceptIds.HeartFailure });

        Assert.True(concepts >= 8, $"only {concepts} heart-failure concepts are used");
        Assert.Equal(SyntheticWarehouseFixture.AnalysisPersons, persons);
        Assert.True(exactOnly < persons / 2, "most persons are coded below the 'Heart failure' concept itself");
    }

    [Fact]
    public async Task Consent_covers_most_persons_for_research_fewer_for_genomics_and_records_withdrawals()
    {
        await using var connection = await fixture.DataSource.OpenConnectionAsync();
        var rows = (await connection.QueryAsync<(string Purpose, long Granted, long Withdrawn)>(
            """
            SELECT purpose, count(DISTINCT person_id) FILTER (WHERE status = 'granted'), count(*) FILTER (WHERE status = 'withdrawn')
            FROM gov.consent WHERE source = 'syn' GROUP BY purpose
            """)).ToDictionary(r => r.Purpose);

        Assert.True(rows["research"].Granted > 0.9 * SyntheticWarehouseFixture.AnalysisPersons);
        Assert.True(rows["genomic_research"].Granted < rows["research"].Granted / 2);
        Assert.True(rows["research"].Withdrawn > 0);
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
            """
            SELECT count(*) FROM gov.consent w
            WHERE w.source = 'syn' AND w.status = 'withdrawn'
              AND NOT EXISTS (SELECT 1 FROM gov.consent g WHERE g.source = w.source AND g.person_id = w.person_id
                              AND g.purpose = w.purpose AND g.status = 'granted' AND g.effective_to = w.effective_from - 1)
            """));
    }

    [Fact]
    public async Task Wearables_show_falling_steps_and_rising_resting_heart_rate_before_heart_failure_admissions()
    {
        await using var connection = await fixture.DataSource.OpenConnectionAsync();
        var (stepsBefore, stepsEarlier, hrBefore, hrEarlier) = await connection.QuerySingleAsync<(double, double, double, double)>(
            """
            WITH hf AS (
                SELECT c.person_id, c.visit_occurrence_id, c.condition_start_date
                FROM cdm_syn.condition_occurrence c
                JOIN cdm_syn.concept_ancestor ca ON ca.descendant_concept_id = c.condition_concept_id AND ca.ancestor_concept_id = @hf
            ), admissions AS (
                -- Decompensations: HF admissions at least 90 days after the diagnosis (not the diagnostic stay).
                SELECT DISTINCT v.person_id, v.visit_start_date AS admitted
                FROM cdm_syn.visit_occurrence v
                JOIN hf ON hf.visit_occurrence_id = v.visit_occurrence_id
                WHERE v.visit_concept_id = 9201
                  AND v.visit_start_date > (SELECT min(d.condition_start_date) FROM hf d WHERE d.person_id = v.person_id) + 90
            ), windows AS (
                SELECT a.person_id, w.measurement_date >= a.admitted - 7 AS last_week, w.steps, w.resting_hr
                FROM admissions a
                JOIN cdm_syn.wearable_daily w ON w.person_id = a.person_id
                 AND w.measurement_date BETWEEN a.admitted - 35 AND a.admitted - 1
                 AND (w.measurement_date >= a.admitted - 7 OR w.measurement_date < a.admitted - 21)
            )
            SELECT avg(steps) FILTER (WHERE last_week)::float8, avg(steps) FILTER (WHERE NOT last_week)::float8,
                   avg(resting_hr) FILTER (WHERE last_week)::float8, avg(resting_hr) FILTER (WHERE NOT last_week)::float8
            FROM windows
            """,
            new { hf = ConceptIds.HeartFailure });

        Assert.True(stepsBefore < 0.8 * stepsEarlier, $"steps in the last week {stepsBefore:F0} vs three to five weeks before {stepsEarlier:F0}");
        Assert.True(hrBefore > hrEarlier + 4, $"resting HR in the last week {hrBefore:F1} vs earlier {hrEarlier:F1}");
    }

    [Theory]
    [InlineData("visit_occurrence", "visit_start_date", "visit_end_date")]
    [InlineData("condition_occurrence", "condition_start_date", "condition_start_date")]
    [InlineData("drug_exposure", "drug_exposure_start_date", "drug_exposure_start_date")]
    [InlineData("measurement", "measurement_date", "measurement_date")]
    [InlineData("observation", "observation_date", "observation_date")]
    [InlineData("wearable_daily", "measurement_date", "measurement_date")]
    [InlineData("death", "death_date", "death_date")]
    public async Task Events_lie_within_the_persons_observation_period(string table, string start, string end)
    {
        await using var connection = await fixture.DataSource.OpenConnectionAsync();
        var outside = await connection.ExecuteScalarAsync<long>(
            $"""
            SELECT count(*) FROM cdm_syn.{table} t JOIN cdm_syn.observation_period o ON o.person_id = t.person_id
            WHERE t.{start} < o.observation_period_start_date OR t.{end} > o.observation_period_end_date
            """);

        Assert.Equal(0, outside);
    }

    [Fact]
    public async Task The_load_is_recorded_in_the_registry_with_row_counts()
    {
        await using var connection = await fixture.DataSource.OpenConnectionAsync();
        var counts = await connection.ExecuteScalarAsync<string>("SELECT row_counts::text FROM app.data_sources WHERE name = 'syn'");
        var loadedAt = await connection.ExecuteScalarAsync<DateTime?>("SELECT loaded_at FROM app.data_sources WHERE name = 'syn'");

        Assert.NotNull(loadedAt);
        Assert.Contains("\"person\": 10000", counts, StringComparison.Ordinal);
        Assert.Contains("\"wearable_hourly\"", counts, StringComparison.Ordinal);
        Assert.Equal(fixture.AnalysisReport.TotalRows, fixture.AnalysisReport.Tables.Sum(t => t.Rows));
    }
}
