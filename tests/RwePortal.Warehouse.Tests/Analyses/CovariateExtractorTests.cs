using Dapper;
using RwePortal.Warehouse.Analyses;
using RwePortal.Warehouse.Cohorts;
using RwePortal.Warehouse.Protocols;
using RwePortal.Warehouse.Schema;
using RwePortal.Warehouse.Sources;
using RwePortal.Warehouse.Tests.Cohorts;

namespace RwePortal.Warehouse.Tests.Analyses;

/// <summary>
/// Baseline covariates on a small planted source (<c>cov</c>: twelve persons, one time zero, events placed on, before
/// and after it), extracted as the read-only warehouse role, against values worked out by hand from the planted rows.
/// </summary>
[Collection(CohortWarehouseCollection.Name)]
public sealed class CovariateExtractorTests(CohortWarehouseFixture fixture)
{
    private const string Source = "cov";
    private const string Schema = "cdm_cov";
    private static readonly DateOnly Tz = new(2024, 6, 15);
    private static readonly SemaphoreSlim PlantLock = new(1, 1);
    private static bool _planted;

    // Concepts of the planted vocabulary.
    private const int HeartDisease = 321588;
    private const int HeartFailure = 316139;
    private const int SystolicHf = 443580;
    private const int Mi = 4329847;
    private const int Diabetes = 201820;
    private const int Type2Diabetes = 201826;
    private const int Valsartan = 1308842;
    private const int SacubitrilValsartan = 2000000402;
    private const int HbA1c = 3004410;
    private const int Percent = 8554;
    private const int Kccq = 2000000501;
    private const int Inpatient = 9201;

    private async Task<DataSource> PlantAsync()
    {
        await PlantLock.WaitAsync();
        try
        {
            if (!_planted)
            {
                await new DataSourceRegistry(fixture.Owner).AddAsync(Source, "planted covariate source", CancellationToken.None);
                await fixture.OwnerSqlAsync(PlantSql);
                _planted = true;
            }
        }
        finally
        {
            PlantLock.Release();
        }

        return (await new DataSourceRegistry(fixture.Owner).FindAsync(Source, CancellationToken.None))!;
    }

    // Time zero is 2024-06-15 for everyone. d(n) below is time zero + n days.
    private static string D(int days) => "'" + Tz.AddDays(days).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) + "'";

    private static readonly string PlantSql = $"""
        INSERT INTO {Schema}.concept (concept_id, concept_name, domain_id, vocabulary_id, concept_class_id, standard_concept, concept_code, valid_start_date, valid_end_date) VALUES
            (8507, 'MALE', 'Gender', 'Gender', 'Gender', 'S', 'M', '1970-01-01', '2099-12-31'),
            (8532, 'FEMALE', 'Gender', 'Gender', 'Gender', 'S', 'F', '1970-01-01', '2099-12-31'),
            (8527, 'White', 'Race', 'Race', 'Race', 'S', '5', '1970-01-01', '2099-12-31'),
            ({HeartDisease}, 'Heart disease', 'Condition', 'SNOMED', 'Clinical Finding', 'S', '56265001', '1970-01-01', '2099-12-31'),
            ({HeartFailure}, 'Heart failure', 'Condition', 'SNOMED', 'Clinical Finding', 'S', '84114007', '1970-01-01', '2099-12-31'),
            ({SystolicHf}, 'Systolic heart failure', 'Condition', 'SNOMED', 'Clinical Finding', 'S', '417996009', '1970-01-01', '2099-12-31'),
            ({Mi}, 'Myocardial infarction', 'Condition', 'SNOMED', 'Clinical Finding', 'S', '22298006', '1970-01-01', '2099-12-31'),
            ({Diabetes}, 'Diabetes mellitus', 'Condition', 'SNOMED', 'Clinical Finding', 'S', '73211009', '1970-01-01', '2099-12-31'),
            ({Type2Diabetes}, 'Type 2 diabetes mellitus', 'Condition', 'SNOMED', 'Clinical Finding', 'S', '44054006', '1970-01-01', '2099-12-31'),
            ({Valsartan}, 'valsartan', 'Drug', 'RxNorm', 'Ingredient', 'S', '69749', '1970-01-01', '2099-12-31'),
            ({SacubitrilValsartan}, 'sacubitril / valsartan Oral Tablet', 'Drug', 'RwePortal', 'Clinical Drug Form', 'S', 'x', '1970-01-01', '2099-12-31'),
            ({HbA1c}, 'Hemoglobin A1c', 'Measurement', 'LOINC', 'Lab Test', 'S', '4548-4', '1970-01-01', '2099-12-31'),
            ({Percent}, 'percent', 'Unit', 'UCUM', 'Unit', 'S', '%', '1970-01-01', '2099-12-31'),
            ({Kccq}, 'KCCQ-12 overall summary score', 'Observation', 'RwePortal', 'Survey', 'S', 'k', '1970-01-01', '2099-12-31'),
            ({Inpatient}, 'Inpatient Visit', 'Visit', 'Visit', 'Visit', 'S', 'IP', '1970-01-01', '2099-12-31');
        INSERT INTO {Schema}.concept_ancestor (ancestor_concept_id, descendant_concept_id, min_levels_of_separation, max_levels_of_separation) VALUES
            ({HeartDisease}, {HeartDisease}, 0, 0), ({HeartFailure}, {HeartFailure}, 0, 0), ({SystolicHf}, {SystolicHf}, 0, 0),
            ({HeartDisease}, {HeartFailure}, 1, 1), ({HeartDisease}, {SystolicHf}, 2, 2), ({HeartFailure}, {SystolicHf}, 1, 1),
            ({Mi}, {Mi}, 0, 0), ({Diabetes}, {Diabetes}, 0, 0), ({Type2Diabetes}, {Type2Diabetes}, 0, 0), ({Diabetes}, {Type2Diabetes}, 1, 1),
            ({Valsartan}, {Valsartan}, 0, 0), ({SacubitrilValsartan}, {SacubitrilValsartan}, 0, 0), ({Valsartan}, {SacubitrilValsartan}, 1, 1);
        INSERT INTO {Schema}.person (person_id, gender_concept_id, year_of_birth, race_concept_id, ethnicity_concept_id)
        SELECT g, CASE WHEN g % 2 = 0 THEN 8532 ELSE 8507 END, 1950 + g, 8527, 0 FROM generate_series(1, 12) g;
        INSERT INTO {Schema}.condition_occurrence (condition_occurrence_id, person_id, condition_concept_id, condition_start_date, condition_type_concept_id) VALUES
            (1, 1, {SystolicHf}, {D(0)}, 32817),   -- on time zero: never used
            (2, 1, {SystolicHf}, {D(1)}, 32817),   -- after time zero: never used
            (3, 1, {SystolicHf}, {D(-1)}, 32817),  -- the day before: every window
            (4, 2, {SystolicHf}, {D(-100)}, 32817),
            (5, 3, {HeartFailure}, {D(-200)}, 32817),
            (6, 4, {SystolicHf}, {D(-366)}, 32817),
            (7, 5, {SystolicHf}, {D(-400)}, 32817),
            (8, 5, {SystolicHf}, {D(-10)}, 32817),
            (9, 8, {Mi}, {D(-2000)}, 32817),
            (10, 8, {Type2Diabetes}, {D(-50)}, 32817),
            (11, 9, {Mi}, {D(0)}, 32817),
            (12, 12, {HeartFailure}, {D(-3)}, 32817);
        INSERT INTO {Schema}.drug_exposure (drug_exposure_id, person_id, drug_concept_id, drug_exposure_start_date, drug_exposure_end_date, drug_type_concept_id) VALUES
            (1, 6, {SacubitrilValsartan}, {D(-5)}, {D(25)}, 32869),
            (2, 7, {Valsartan}, {D(-5)}, {D(25)}, 32869),
            (3, 2, {Valsartan}, {D(-5)}, {D(25)}, 32869),
            (4, 7, {SacubitrilValsartan}, {D(0)}, {D(30)}, 32869);
        INSERT INTO {Schema}.measurement (measurement_id, person_id, measurement_concept_id, measurement_date, measurement_type_concept_id, value_as_number, unit_concept_id) VALUES
            (1, 1, {HbA1c}, {D(-10)}, 32856, 7.0, {Percent}),
            (2, 1, {HbA1c}, {D(0)}, 32856, 9.9, {Percent}),
            (3, 1, {HbA1c}, {D(-400)}, 32856, 8.0, {Percent}),
            (4, 2, {HbA1c}, {D(-300)}, 32856, 6.0, {Percent}),
            (5, 2, {HbA1c}, {D(-20)}, 32856, 6.5, {Percent});
        INSERT INTO {Schema}.observation (observation_id, person_id, observation_concept_id, observation_date, observation_type_concept_id, value_as_number) VALUES
            (1, 3, {Kccq}, {D(-3)}, 32862, 55),
            (2, 3, {Kccq}, {D(0)}, 32862, 80),
            (3, 4, {Kccq}, {D(-30)}, 32862, 70);
        INSERT INTO {Schema}.visit_occurrence (visit_occurrence_id, person_id, visit_concept_id, visit_start_date, visit_end_date, visit_type_concept_id) VALUES
            (1, 2, {Inpatient}, {D(-30)}, {D(-28)}, 32810),
            (2, 2, {Inpatient}, {D(0)}, {D(2)}, 32810);
        INSERT INTO {Schema}.cost (cost_id, cost_event_id, cost_domain_id, cost_type_concept_id, total_paid) VALUES
            (1, 1, 'Visit', 32810, 100), (2, 2, 'Visit', 32810, 1000), (3, 3, 'Drug', 32869, 50);
        INSERT INTO {Schema}.variant_occurrence (variant_occurrence_id, person_id, sample_date, gene_symbol, clinical_significance) VALUES
            (1, 10, {D(-100)}, 'TTR', 'pathogenic'),
            (2, 11, {D(0)}, 'TTR', 'pathogenic'),
            (3, 6, NULL, 'TTR', 'likely_pathogenic'),
            (4, 1, {D(-100)}, 'TTR', 'benign');
        INSERT INTO {Schema}.genomic_score (genomic_score_id, person_id, score_id, score_name, value, percentile, measured_date) VALUES
            (1, 1, 'PGS000001', 'CAD PRS', 1.2, 90, {D(-50)}),
            (2, 1, 'PGS000001', 'CAD PRS', 1.3, 95, {D(0)}),
            (3, 2, 'PGS000001', 'CAD PRS', 0.1, 40, NULL);
        INSERT INTO {Schema}.wearable_daily (person_id, measurement_date, device, steps, resting_hr, wear_minutes) VALUES
            (1, {D(-1)}, 'w', 1000, 60, 600), (1, {D(-2)}, 'w', 3000, 70, 600),
            (1, {D(0)}, 'w', 5000, 90, 600), (1, {D(-91)}, 'w', 9000, 50, 600), (1, {D(-3)}, 'w', 7000, 80, 0);
        INSERT INTO gov.consent_model (source, purpose, model, reference, set_by) VALUES ('{Source}', 'research', 'waiver', 'IRB-COV', 'test');
        INSERT INTO gov.consent (source, person_id, purpose, status, effective_from, recorded_by)
        VALUES ('{Source}', 12, 'research', 'withdrawn', current_date - 1, 'test');
        """;

    private static readonly IReadOnlyList<StudyPerson> Persons = Enumerable.Range(1, 12).Select(i => new StudyPerson(i, Tz)).ToList();

    private static CovariateSettings Settings(params CovariateSpec[] specs) =>
        new() { Specs = specs, Source = Source, Purpose = "research", RareMinimumPersons = 1, RareShare = 0 };

    private static CovariateSpec Spec(string name, CovariateModality modality, int? start = null, int? end = null, params ConceptItem[] concepts) =>
        new(name, modality, start, end, concepts);

    private async Task<CovariateData> ExtractAsync(CovariateSettings settings, IReadOnlyList<StudyPerson>? persons = null)
    {
        var source = await PlantAsync();
        await using var reader = await fixture.Reader.OpenAsync(CancellationToken.None);
        return await CovariateExtractor.ExtractAsync(reader, source.SchemaName, persons ?? Persons, settings, CancellationToken.None);
    }

    /// <summary>The persons (ids, through the population) with a covariate, and their values.</summary>
    private static Dictionary<long, double> Of(CovariateData data, string name, IReadOnlyList<StudyPerson>? persons = null)
    {
        var matches = data.Refs.Where(r => r.Name == name).ToList();
        Assert.True(matches.Count == 1, $"expected one covariate named '{name}', found {matches.Count} among:\n" + string.Join("\n", data.Refs.Select(r => r.Name)));
        var id = matches[0].Id;
        var result = new Dictionary<long, double>();
        for (var k = 0; k < data.Entries; k++)
        {
            if (data.Covariates[k] == id)
            {
                result.Add((persons ?? Persons)[data.Rows[k]].PersonId, data.Values[k]);
            }
        }

        return result;
    }

    private static void AssertPersons(IEnumerable<long> expected, Dictionary<long, double> actual) =>
        Assert.Equal(expected.Order(), actual.Keys.Order());

    [Fact]
    public async Task Condition_windows_end_the_day_before_time_zero_so_events_on_and_after_it_are_never_used()
    {
        var data = await ExtractAsync(Settings(Spec("conditions", CovariateModality.Condition, -365, -1)));

        // Person 1: on time zero and the day after (not used), the day before (used in every window).
        AssertPersons([1, 2, 5], Of(data, "condition: Systolic heart failure [443580], 365 days before"));
        AssertPersons([1, 2, 5], Of(data, "condition: Systolic heart failure [443580], 180 days before"));
        AssertPersons([1, 5], Of(data, "condition: Systolic heart failure [443580], 30 days before"));
        AssertPersons([3], Of(data, "condition: Heart failure [316139], 365 days before"));
        Assert.All(Of(data, "condition: Systolic heart failure [443580], 30 days before").Values, v => Assert.Equal(1, v));
        // Person 9's myocardial infarction is on time zero: no condition covariate, no Charlson point.
        Assert.DoesNotContain(data.Refs, r => r.Name.StartsWith("condition: Myocardial infarction", StringComparison.Ordinal)
                                              && Of(data, r.Name).ContainsKey(9));
    }

    [Fact]
    public async Task Condition_groups_hold_the_concept_and_its_descendants_through_concept_ancestor()
    {
        var data = await ExtractAsync(Settings(Spec("conditions", CovariateModality.Condition, -365, -1)));

        AssertPersons([1, 2, 3, 5], Of(data, "condition group: Heart failure [316139], 365 days before"));
        AssertPersons([1, 2, 3, 5], Of(data, "condition group: Heart disease [321588], 365 days before"));
        AssertPersons([1, 5], Of(data, "condition group: Heart failure [316139], 30 days before"));
        // Systolic heart failure has no recorded descendant: its group would repeat its concept, and is left out.
        Assert.DoesNotContain(data.Refs, r => r.Name.StartsWith("condition group: Systolic", StringComparison.Ordinal));
        Assert.All(data.Refs.Where(r => r.Name.StartsWith("condition group", StringComparison.Ordinal)),
            r => Assert.Equal("conditions", r.Spec()));
    }

    [Fact]
    public async Task Drug_groups_are_ingredients_and_dispensings_on_time_zero_are_not_baseline()
    {
        var data = await ExtractAsync(Settings(Spec("drugs", CovariateModality.Drug, -365, -1)));

        AssertPersons([2, 6, 7], Of(data, "drug group: valsartan [1308842], 30 days before"));
        // Person 7's sacubitril/valsartan is on time zero (the index dispensing): not a baseline covariate.
        AssertPersons([6], Of(data, "drug: sacubitril / valsartan Oral Tablet [2000000402], 30 days before"));
    }

    [Fact]
    public async Task Latest_measurement_before_time_zero_is_mean_imputed_with_a_missing_indicator()
    {
        var data = await ExtractAsync(Settings(Spec("labs", CovariateModality.Measurement, -365, -1)));

        var name = "measurement: Hemoglobin A1c [3004410] (percent), latest value 365 days before";
        var values = Of(data, name);
        // Person 1: 7.0 ten days before (9.9 on time zero and 8.0 400 days before are outside); person 2: 6.5.
        Assert.Equal(7.0, values[1], 10);
        Assert.Equal(6.5, values[2], 10);
        // Persons 3-11 (consented, no value) get the mean of the observed values; person 12 withdrew consent.
        foreach (var p in Enumerable.Range(3, 9))
        {
            Assert.Equal(6.75, values[p], 10);
        }

        Assert.False(values.ContainsKey(12));
        AssertPersons(Enumerable.Range(3, 9).Select(i => (long)i), Of(data, name + ": missing"));
        Assert.False(data.Refs.Single(r => r.Name == name).Binary);
        Assert.True(data.Refs.Single(r => r.Name == name + ": missing").Binary);
    }

    [Fact]
    public async Task Measurement_spec_with_concepts_keeps_only_those_concepts()
    {
        var data = await ExtractAsync(Settings(
            Spec("labs", CovariateModality.Measurement, -365, -1, new ConceptItem(HbA1c, false, false)),
            Spec("kccq", CovariateModality.Pro, -365, -1)));

        Assert.Equal(7.0, Of(data, "measurement: Hemoglobin A1c [3004410] (percent), latest value 365 days before")[1], 10);
        // PRO: person 3's 55 three days before (80 on time zero is not used), person 4's 70; the rest the mean 62.5.
        var pro = Of(data, "pro: KCCQ-12 overall summary score [2000000501], latest value 365 days before");
        Assert.Equal(55, pro[3], 10);
        Assert.Equal(70, pro[4], 10);
        Assert.Equal(62.5, pro[1], 10);
        Assert.Equal(["kccq", "labs"], data.Refs.Select(r => r.Spec()).Distinct().Order());
    }

    [Fact]
    public async Task Concept_set_specs_give_one_flag_per_concept_with_its_descendants_in_the_spec_window()
    {
        var data = await ExtractAsync(Settings(
            Spec("heart failure", CovariateModality.Condition, -180, -1, new ConceptItem(HeartFailure, true, false), new ConceptItem(SystolicHf, false, true))));

        // Heart failure and descendants in the 180 days before, less systolic heart failure: person 3's is 200 days
        // before and person 12 (three days before) withdrew consent, so nobody has it and the covariate is absent.
        Assert.DoesNotContain(data.Refs, r => r.Name.StartsWith("condition: Heart failure", StringComparison.Ordinal));

        var wide = await ExtractAsync(Settings(Spec("heart failure", CovariateModality.Condition, -365, -1, new ConceptItem(HeartFailure, true, false))));
        AssertPersons([1, 2, 3, 5], Of(wide, "condition: Heart failure [316139] or a descendant, 365 days before"));
    }

    [Fact]
    public async Task Charlson_index_counts_categories_before_time_zero_with_romano_weights()
    {
        var data = await ExtractAsync(Settings(Spec("conditions", CovariateModality.Condition, -365, -1)));

        var charlson = Of(data, "Charlson comorbidity index (Romano adaptation), any time before time zero");
        // Person 8: myocardial infarction 2000 days before (any time before counts) + type 2 diabetes = 2.
        // Persons 1, 2, 3, 5: heart failure = 1. Person 9: infarction on time zero = nothing.
        Assert.Equal(2, charlson[8]);
        Assert.Equal(1, charlson[1]);
        Assert.Equal(1, charlson[3]);
        Assert.False(charlson.ContainsKey(9));
        Assert.Equal(2, CharlsonIndex.Score(new HashSet<int> { 10, 11 }));
        Assert.Equal(6, CharlsonIndex.Score(new HashSet<int> { 14, 16 }));
    }

    [Fact]
    public async Task Variants_scores_wearables_and_claims_use_only_data_before_time_zero()
    {
        var data = await ExtractAsync(Settings(
            Spec("genes", CovariateModality.Variant),
            Spec("prs", CovariateModality.GenomicScore),
            Spec("wearables", CovariateModality.Wearable),
            Spec("claims", CovariateModality.Claims)));

        // Person 11's sample is dated time zero; person 6's undated germline result counts; benign is no carrier flag.
        AssertPersons([10], Of(data, "variant carrier: TTR pathogenic"));
        AssertPersons([6], Of(data, "variant carrier: TTR likely pathogenic"));
        Assert.DoesNotContain(data.Refs, r => r.Name.Contains("benign", StringComparison.Ordinal));

        var prs = Of(data, "genomic score percentile: CAD PRS (PGS000001)");
        Assert.Equal(90, prs[1]);
        Assert.Equal(40, prs[2]);
        Assert.Equal(65, prs[3]);

        // Worn days -1 and -2 (time zero, day -91 and a day without wear are not used).
        Assert.Equal(2, Of(data, "wearable: days worn, 90 days before")[1]);
        Assert.Equal(2000, Of(data, "wearable: mean daily steps, 90 days before")[1]);
        Assert.Equal(65, Of(data, "wearable: mean resting heart rate, 90 days before")[1]);
        AssertPersons(Enumerable.Range(2, 10).Select(i => (long)i), Of(data, "wearable: mean daily steps, 90 days before: missing"));

        // Person 2: the visit 30 days before (100) and a dispensing (50); the admission on time zero (1000) is not baseline.
        Assert.Equal(150, Of(data, "claims: total paid (visits and dispensings), 365 days before")[2]);
        Assert.Equal(1, Of(data, "claims: visits of type Inpatient Visit [9201], 365 days before")[2]);
    }

    [Fact]
    public async Task Demographics_give_sex_age_group_index_year_and_month_and_age()
    {
        var data = await ExtractAsync(Settings(Spec("demographics", CovariateModality.Demographics)));

        AssertPersons([2, 4, 6, 8, 10], Of(data, "gender: FEMALE [8532]"));
        AssertPersons([1, 3, 5, 7, 9, 11], Of(data, "gender: MALE [8507]"));
        // Born 1950 + id, time zero 2024: age 74 - id + 1 ... person 1 is 73, person 4 is 70, person 5 is 69.
        AssertPersons([1, 2, 3, 4], Of(data, "age group: 70-74"));
        AssertPersons([5, 6, 7, 8, 9], Of(data, "age group: 65-69"));
        AssertPersons(Enumerable.Range(1, 11).Select(i => (long)i), Of(data, "index year: 2024"));
        AssertPersons(Enumerable.Range(1, 11).Select(i => (long)i), Of(data, "index month: 6"));
        Assert.Equal(73, Of(data, "age in years at time zero")[1]);
        AssertPersons(Enumerable.Range(1, 11).Select(i => (long)i), Of(data, "race: White [8527]"));
    }

    [Fact]
    public async Task A_person_who_withdrew_consent_has_no_covariates_and_rows_follow_the_population_order()
    {
        var reversed = Persons.Reverse().ToList();
        var data = await ExtractAsync(Settings(Spec("demographics", CovariateModality.Demographics), Spec("conditions", CovariateModality.Condition)), reversed);

        Assert.DoesNotContain(0, data.Rows); // row 0 is person 12, who withdrew
        Assert.Equal(73, Of(data, "age in years at time zero", reversed)[1]);
        Assert.Equal(11, data.Rows.Distinct().Count());
    }

    [Fact]
    public async Task A_person_who_enters_twice_gets_a_row_per_entry_each_with_its_own_time_zero()
    {
        // Sequential trials repeat persons: row 0 is person 1 at time zero, row 1 the same person two days later.
        IReadOnlyList<StudyPerson> twice = [new(1, Tz), new(1, Tz.AddDays(2))];
        var data = await ExtractAsync(Settings(Spec("labs", CovariateModality.Measurement, -365, -1)), twice);

        var id = data.Refs.Single(r => r.Name.StartsWith("measurement: Hemoglobin A1c", StringComparison.Ordinal) && !r.Binary).Id;
        var values = Enumerable.Range(0, data.Entries).Where(k => data.Covariates[k] == id).ToDictionary(k => data.Rows[k], k => data.Values[k]);
        // Later time zero: the 9.9 recorded on the first time zero is now before it.
        Assert.Equal(7.0, values[0], 10);
        Assert.Equal(9.9, values[1], 10);
    }

    [Fact]
    public async Task Rare_binary_covariates_are_dropped_and_the_cap_keeps_the_most_prevalent()
    {
        var spec = Spec("conditions", CovariateModality.Condition, -365, -1);
        var all = await ExtractAsync(Settings(spec));
        var rare = await ExtractAsync(Settings(spec) with { RareMinimumPersons = 4 });

        // The rare filter: binary covariates of fewer than 4 persons go; the others stay whole.
        var expected = all.Refs.Where(r => !r.Binary || Of(all, r.Name).Count >= 4).Select(r => r.Name).ToList();
        Assert.Equal(expected, rare.Refs.Select(r => r.Name).ToList());
        Assert.Contains(rare.Refs, r => r.Name == "condition group: Heart failure [316139], 365 days before");
        Assert.DoesNotContain(rare.Refs, r => r.Name == "condition: Heart failure [316139], 365 days before");
        Assert.Equal(Enumerable.Range(0, rare.Refs.Count), rare.Refs.Select(r => r.Id));

        var capped = await ExtractAsync(Settings(spec) with { MaxCovariates = 3 });
        Assert.Equal(3, capped.Refs.Count);
        Assert.Contains(capped.Refs, r => !r.Binary); // the Charlson index always stays
        Assert.All(capped.Refs.Where(r => r.Binary), r => Assert.Equal(4, Of(capped, r.Name).Count));
    }

    [Fact]
    public async Task The_statement_joins_the_consent_filter_and_never_contains_text_from_the_protocol()
    {
        var specs = Enum.GetValues<CovariateModality>()
            .Select(m => Spec("x'); DROP TABLE person; --" + m, m, -365, -1))
            .Append(Spec("set", CovariateModality.Measurement, -30, -1, new ConceptItem(HbA1c, true, false)))
            .ToArray();
        var compiled = CovariateStatement.Compile(Schema, Persons, Settings(specs));

        Assert.Contains("gov.consented_persons(@source, @purpose)", compiled.Sql, StringComparison.Ordinal);
        // The only other statement reads the vocabulary: no person-level table, nothing to filter by consent.
        var names = CovariateStatement.NamesSql(Schema);
        Assert.Equal(["concept"], System.Text.RegularExpressions.Regex.Matches(names, @"""cdm_cov""\.(\w+)").Select(m => m.Groups[1].Value));
        Assert.DoesNotContain("person", names, StringComparison.Ordinal);
        Assert.DoesNotContain("DROP", compiled.Sql, StringComparison.Ordinal);
        Assert.DoesNotContain("3004410", compiled.Sql, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => CovariateStatement.Compile("cdm_cov\"; DROP SCHEMA x; --", Persons, Settings(specs)));
        Assert.Throws<ArgumentException>(() => CovariateStatement.Compile(Schema, Persons, Settings(specs) with { Purpose = "" }));

        var data = await ExtractAsync(Settings(specs));
        Assert.Contains(data.Refs, r => r.Spec() == "x'); DROP TABLE person; --Condition");
    }

    [Fact]
    public async Task A_window_that_reaches_time_zero_is_clipped_to_the_day_before()
    {
        var data = await ExtractAsync(Settings(Spec("conditions", CovariateModality.Condition, -30, 30)));

        AssertPersons([1, 5], Of(data, "condition: Systolic heart failure [443580], 30 days before"));
        Assert.Throws<ArgumentException>(() => CovariateStatement.RangeOf(Spec("late", CovariateModality.Condition, 1, 30)));
    }

    [Fact]
    public async Task Extraction_runs_read_only_as_the_warehouse_role()
    {
        var source = await PlantAsync();
        await using var reader = await fixture.Reader.OpenAsync(CancellationToken.None);
        Assert.Equal("rwe_reader", await reader.ExecuteScalarAsync<string>("SELECT current_user"));
        await CovariateExtractor.ExtractAsync(reader, source.SchemaName, Persons, Settings(Spec("d", CovariateModality.Demographics)), CancellationToken.None);
        var e = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => reader.ExecuteAsync($"INSERT INTO {Schema}.person (person_id, gender_concept_id, year_of_birth, race_concept_id, ethnicity_concept_id) VALUES (99, 0, 1900, 0, 0)"));
        Assert.True(e.SqlState is "25006" or "42501", e.SqlState);
    }

    [Fact]
    public async Task The_portal_role_with_its_password_cannot_read_covariates()
    {
        var source = await PlantAsync();
        await using var app = new Npgsql.NpgsqlConnection(fixture.Database.AppConnectionString);
        await app.OpenAsync();

        // rwe_app has no grant on the warehouse schemas: only the read seam's role extracts.
        var e = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => CovariateExtractor.ExtractAsync(
            app, source.SchemaName, Persons, Settings(Spec("conditions", CovariateModality.Condition)), CancellationToken.None));
        Assert.Equal("42501", e.SqlState);
    }

    [Fact]
    public void Settings_from_an_assignment_keep_its_specs_and_the_given_consent()
    {
        var assignment = new Assignment([Spec("demographics", CovariateModality.Demographics), Spec("conditions", CovariateModality.Condition, -365, -1)]);
        var settings = CovariateSettings.From(assignment, "syn", "research");

        Assert.Equal(assignment.Covariates, settings.Specs);
        Assert.Equal(("syn", "research"), (settings.Source, settings.Purpose));
        Assert.Equal(5, settings.RareThreshold(3_000));
        Assert.Equal(100, settings.RareThreshold(100_000));
        Assert.Equal(["365d", "180d", "30d"], CovariateStatement.LargeScaleWindows(new CovariateWindow(-365, -1)).Select(w => w.Label));
        Assert.Equal(["36500d", "365d", "180d", "30d"], CovariateStatement.LargeScaleWindows(new CovariateWindow(-36500, -1)).Select(w => w.Label));
        _ = SchemaName.ForSource("syn");
    }
}
