using RwePortal.Warehouse.Synthetic;

namespace RwePortal.Warehouse.Tests.Cohorts;

/// <summary>
/// Counts on a generated source: against the generator's own truth where it has one, otherwise against queries written
/// by hand in a different shape (day-by-day enrollment, gaps and islands).
/// </summary>
[Collection(CohortWarehouseCollection.Name)]
public sealed class SyntheticSubgroupCountTests(CohortWarehouseFixture fixture)
{
    private const string FirstUse = """
        SELECT person_id, min(drug_exposure_start_date) AS d FROM cdm_syn.drug_exposure
        WHERE drug_concept_id IN (2000000402, 1341927) GROUP BY person_id
        """;

    [Fact]
    public async Task Ttr_v142i_carriers_are_the_sequenced_carriers_the_generator_drew()
    {
        var generator = new PersonGenerator(CohortWarehouseFixture.SyntheticSeed);
        var batch = new SyntheticBatch();
        var truth = Enumerable.Range(1, (int)CohortWarehouseFixture.SyntheticPersons)
            .Select(id => generator.Generate(id, batch))
            .Count(t => t.Covariates.TtrV142IKnownCarrier);

        var count = await fixture.CountAsync(fixture.SyntheticSource, """
            {"version": 1, "criteria": [{"kind": "variant", "rsid": ["rs76992529"], "hgvsP": ["p.Val142Ile"]}]}
            """);

        Assert.True(truth > 10, $"the generator drew carriers ({truth})");
        Assert.Equal(truth, count.Count + count.RemovedByConsent);
        Assert.True(count.RemovedByConsent > 0, "opt-in consent removes some carriers");
    }

    [Fact]
    public async Task Four_modality_example_matches_a_hand_written_day_by_day_query()
    {
        var expected = await fixture.OwnerCountAsync($"""
            WITH idx AS ({FirstUse})
            SELECT count(*) FROM idx i
            WHERE EXISTS (SELECT 1 FROM cdm_syn.condition_occurrence c
                          JOIN cdm_syn.concept_ancestor ca ON ca.descendant_concept_id = c.condition_concept_id AND ca.ancestor_concept_id = 316139
                          WHERE c.person_id = i.person_id AND c.condition_start_date < i.d)
              AND EXISTS (SELECT 1 FROM cdm_syn.variant_occurrence v
                          WHERE v.person_id = i.person_id AND v.gene_symbol = 'TTR' AND v.clinical_significance IN ('pathogenic', 'likely_pathogenic'))
              AND (SELECT count(*) >= 10 AND sum(s) < 3000 * count(*)
                   FROM (SELECT w.measurement_date, avg(w.steps) AS s FROM cdm_syn.wearable_daily w
                         WHERE w.person_id = i.person_id AND w.wear_minutes > 0 AND w.measurement_date BETWEEN i.d - 30 AND i.d - 1
                         GROUP BY w.measurement_date) days)
              AND NOT EXISTS (SELECT 1 FROM generate_series(i.d - 365, i.d - 1, interval '1 day') g(day)
                              WHERE NOT EXISTS (SELECT 1 FROM cdm_syn.payer_plan_period pp
                                                WHERE pp.person_id = i.person_id AND g.day BETWEEN pp.payer_plan_period_start_date AND pp.payer_plan_period_end_date))
            """);
        var consented = await fixture.OwnerCountAsync($"""
            WITH idx AS ({FirstUse})
            SELECT count(*) FROM idx i JOIN gov.consented_persons('syn', 'research') c ON c.person_id = i.person_id
            """);

        var count = await fixture.CountAsync(fixture.SyntheticSource, Examples.Read("synthetic-ttr-hf-low-steps.json"));

        Assert.True(expected > 0, "the generated source has such persons");
        Assert.Equal(expected, count.Count + count.RemovedByConsent);
        Assert.Equal(consented, count.Attrition[0].Remaining);
        Assert.Equal(5, count.Attrition.Count);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(30)]
    public async Task Enrollment_with_an_allowed_gap_matches_the_longest_uncovered_run_of_days(int gap)
    {
        var expected = await fixture.OwnerCountAsync($$"""
            WITH idx AS ({{FirstUse}}),
            uncovered AS (
                SELECT i.person_id, g.day::date AS day
                FROM idx i CROSS JOIN LATERAL generate_series(i.d - 730, i.d - 1, interval '1 day') g(day)
                WHERE NOT EXISTS (SELECT 1 FROM cdm_syn.payer_plan_period pp
                                  WHERE pp.person_id = i.person_id AND g.day BETWEEN pp.payer_plan_period_start_date AND pp.payer_plan_period_end_date)),
            runs AS (
                SELECT person_id, count(*) AS length
                FROM (SELECT person_id, day, day - CAST(row_number() OVER (PARTITION BY person_id ORDER BY day) AS integer) AS island FROM uncovered) u
                GROUP BY person_id, island)
            SELECT count(*) FROM idx i
            WHERE coalesce((SELECT max(length) FROM runs r WHERE r.person_id = i.person_id), 0) <= @gap
              AND EXISTS (SELECT 1 FROM cdm_syn.payer_plan_period pp WHERE pp.person_id = i.person_id
                          AND pp.payer_plan_period_start_date <= i.d - 1 AND pp.payer_plan_period_end_date >= i.d - 730)
            """,
            new { gap });

        var count = await fixture.CountAsync(fixture.SyntheticSource, $$"""
            {"version": 1, "index": {"kind": "drug", "concepts": [{"id": 2000000402}, {"id": 1341927}]},
             "criteria": [{"kind": "enrollment", "window": {"start": -730, "end": -1}, "allowedGapDays": {{gap}}}]}
            """);

        Assert.True(expected > 0);
        Assert.Equal(expected, count.Count + count.RemovedByConsent);
    }

    [Fact]
    public async Task Measurement_range_with_unit_pro_score_visits_and_genomic_score_match_hand_written_counts()
    {
        var lvef = await fixture.OwnerCountAsync(
            "SELECT count(DISTINCT person_id) FROM cdm_syn.measurement WHERE measurement_concept_id = 2000000201 AND value_as_number <= 40 AND unit_concept_id = 8554");
        var kccq = await fixture.OwnerCountAsync(
            "SELECT count(DISTINCT person_id) FROM cdm_syn.observation WHERE observation_concept_id = 2000000501 AND value_as_number <= 50");
        var edVisits = await fixture.OwnerCountAsync(
            "SELECT count(*) FROM (SELECT person_id FROM cdm_syn.visit_occurrence WHERE visit_concept_id = 9203 GROUP BY person_id HAVING count(*) >= 2) x");
        var prs = await fixture.OwnerCountAsync(
            "SELECT count(DISTINCT person_id) FROM cdm_syn.genomic_score WHERE score_id = 'RWE-PRS-HF-1' AND percentile >= 90");

        async Task<long> Count(string criterion)
        {
            var result = await fixture.CountAsync(fixture.SyntheticSource, $$"""{"version": 1, "criteria": [{{criterion}}]}""");
            return result.Count + result.RemovedByConsent;
        }

        Assert.Equal(lvef, await Count("""{"kind": "measurement", "concepts": [{"id": 2000000201}], "value": {"lte": 40}, "units": [8554]}"""));
        Assert.Equal(0, await Count("""{"kind": "measurement", "concepts": [{"id": 2000000201}], "value": {"lte": 40}, "units": [8876]}"""));
        Assert.Equal(kccq, await Count("""{"kind": "pro", "concepts": [{"id": 2000000501}], "value": {"lte": 50}}"""));
        Assert.Equal(edVisits, await Count("""{"kind": "visit", "concepts": [{"id": 9203}], "count": {"min": 2}}"""));
        Assert.Equal(prs, await Count("""{"kind": "genomicScore", "scoreId": "RWE-PRS-HF-1", "percentile": {"gte": 90}}"""));
        Assert.True(lvef > 0 && kccq > 0 && edVisits > 0 && prs > 0);
    }

    [Fact]
    public async Task Age_race_and_resting_heart_rate_relative_to_the_index_match_a_hand_written_count()
    {
        var expected = await fixture.OwnerCountAsync($"""
            WITH idx AS ({FirstUse})
            SELECT count(*) FROM idx i JOIN cdm_syn.person p ON p.person_id = i.person_id
            WHERE extract(year FROM i.d) - p.year_of_birth BETWEEN 60 AND 79
              AND p.race_concept_id IN (8516, 8527)
              AND (SELECT count(*) >= 5 AND avg(hr) >= 70
                   FROM (SELECT measurement_date, avg(resting_hr) AS hr FROM cdm_syn.wearable_daily
                         WHERE person_id = i.person_id AND wear_minutes > 0 AND resting_hr IS NOT NULL AND measurement_date BETWEEN i.d - 90 AND i.d
                         GROUP BY measurement_date) x)
            """);

        var count = await fixture.CountAsync(fixture.SyntheticSource, """
            {"version": 1, "index": {"kind": "drug", "concepts": [{"id": 2000000402}, {"id": 1341927}]},
             "criteria": [
               {"kind": "age", "min": 60, "max": 79},
               {"kind": "race", "concepts": [8516, 8527]},
               {"kind": "wearable", "metric": "restingHeartRate", "mean": {"gte": 70}, "minDaysWorn": 5, "window": {"start": -90, "end": 0}}
             ]}
            """);

        Assert.True(expected > 0);
        Assert.Equal(expected, count.Count + count.RemovedByConsent);
    }

    [Fact]
    public async Task Change_in_steps_from_the_persons_own_baseline_matches_a_hand_written_count()
    {
        var expected = await fixture.OwnerCountAsync($"""
            WITH idx AS ({FirstUse}),
            daily AS (
                SELECT i.person_id, w.measurement_date, avg(w.steps) AS steps,
                       CASE WHEN w.measurement_date BETWEEN i.d + 30 AND i.d + 59 THEN 'recent'
                            WHEN w.measurement_date BETWEEN i.d - 30 AND i.d - 1 THEN 'baseline' END AS period
                FROM idx i JOIN cdm_syn.wearable_daily w ON w.person_id = i.person_id
                WHERE w.wear_minutes > 0
                GROUP BY i.person_id, w.measurement_date, i.d),
            summary AS (
                SELECT person_id,
                       count(*) FILTER (WHERE period = 'recent') AS recent_days, avg(steps) FILTER (WHERE period = 'recent') AS recent,
                       count(*) FILTER (WHERE period = 'baseline') AS baseline_days, avg(steps) FILTER (WHERE period = 'baseline') AS baseline
                FROM daily GROUP BY person_id)
            SELECT count(*) FROM summary
            WHERE recent_days >= 10 AND baseline_days >= 10 AND recent <= baseline * 0.8 AND recent < 5000
            """);

        var count = await fixture.CountAsync(fixture.SyntheticSource, """
            {"version": 1, "index": {"kind": "drug", "concepts": [{"id": 2000000402}, {"id": 1341927}]},
             "criteria": [{"kind": "wearable", "metric": "steps", "mean": {"lt": 5000}, "minDaysWorn": 10, "window": {"start": 30, "end": 59},
                           "baseline": {"window": {"start": -30, "end": -1}, "changePercent": {"lte": -20}}}]}
            """);

        Assert.True(expected > 0, "some persons walk a fifth less in the second month after index than in the month before");
        Assert.Equal(expected, count.Count + count.RemovedByConsent);
    }

    [Fact]
    public async Task Adherence_as_proportion_of_days_covered_matches_a_day_by_day_count()
    {
        var expected = await fixture.OwnerCountAsync($"""
            WITH idx AS ({FirstUse})
            SELECT count(*) FROM idx i
            WHERE (SELECT count(*) FROM generate_series(i.d, i.d + 179, interval '1 day') g(day)
                   WHERE EXISTS (SELECT 1 FROM cdm_syn.drug_exposure x
                                 WHERE x.person_id = i.person_id AND x.drug_concept_id IN (2000000402, 1341927)
                                   AND g.day BETWEEN x.drug_exposure_start_date AND x.drug_exposure_end_date)) >= 0.8 * 180
            """);
        var all = await fixture.OwnerCountAsync($"SELECT count(*) FROM ({FirstUse}) i");

        var count = await fixture.CountAsync(fixture.SyntheticSource, """
            {"version": 1, "index": {"kind": "drug", "concepts": [{"id": 2000000402}, {"id": 1341927}]},
             "criteria": [{"kind": "adherence", "concepts": [{"id": 2000000402, "descendants": false}, {"id": 1341927, "descendants": false}],
                           "window": {"start": 0, "end": 179}, "pdc": {"gte": 0.8}}]}
            """);

        Assert.True(expected > 0 && expected < all, $"some but not all new users are adherent ({expected} of {all})");
        Assert.Equal(expected, count.Count + count.RemovedByConsent);
    }

    [Fact]
    public async Task First_heart_failure_admission_as_index_is_the_first_hf_diagnosis_of_an_inpatient_visit()
    {
        var expected = await fixture.OwnerCountAsync("""
            SELECT count(DISTINCT c.person_id)
            FROM cdm_syn.condition_occurrence c
            JOIN cdm_syn.visit_occurrence v ON v.person_id = c.person_id AND v.visit_occurrence_id = c.visit_occurrence_id AND v.visit_concept_id = 9201
            WHERE c.condition_concept_id IN (SELECT descendant_concept_id FROM cdm_syn.concept_ancestor WHERE ancestor_concept_id = 316139)
            """);

        var count = await fixture.CountAsync(fixture.SyntheticSource, Examples.Read("synthetic-ttr-hf-admission.json"));
        var anyDiagnosis = await fixture.CountAsync(fixture.SyntheticSource, """
            {"version": 1, "index": {"kind": "condition", "concepts": [{"id": 316139}]}, "criteria": []}
            """);

        Assert.Equal(expected, count.Persons);
        Assert.True(count.Persons < anyDiagnosis.Persons, "not every heart-failure diagnosis was made in hospital");
    }
}
