using Dapper;
using Npgsql;
using RwePortal.Testing;
using RwePortal.Warehouse.Loading;
using RwePortal.Warehouse.Quality;
using RwePortal.Warehouse.Sources;
using RwePortal.Warehouse.Tests.Loading;

namespace RwePortal.Warehouse.Tests.Quality;

/// <summary>A small hand-made dataset in which every modality is consistent, loaded once into source "clean".</summary>
public sealed class CleanDataFixture : IAsyncLifetime
{
    public TestDatabase Database { get; } = new();

    public NpgsqlDataSource DataSource { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Database.InitializeAsync();
        DataSource = NpgsqlDataSource.Create(Database.OwnerConnectionString);
        await new DataSourceRegistry(DataSource).AddAsync("clean", "hand-made consistent data", CancellationToken.None);
        using var folder = new TemporaryFolder()
            .Write(
                "concept.csv",
                "concept_id,concept_name,domain_id,vocabulary_id,concept_class_id,standard_concept,concept_code,valid_start_date,valid_end_date,invalid_reason",
                "8507,MALE,Gender,Gender,Gender,S,M,1970-01-01,2099-12-31,",
                "8532,FEMALE,Gender,Gender,Gender,S,F,1970-01-01,2099-12-31,",
                "8527,White,Race,Race,Race,S,5,1970-01-01,2099-12-31,",
                "38003564,Not Hispanic or Latino,Ethnicity,Ethnicity,Ethnicity,S,Not Hispanic,1970-01-01,2099-12-31,",
                "32817,EHR,Type Concept,Type Concept,Type Concept,S,OMOP4976890,1970-01-01,2099-12-31,",
                "32880,Standard algorithm,Type Concept,Type Concept,Type Concept,S,OMOP4976894,1970-01-01,2099-12-31,",
                "9202,Outpatient Visit,Visit,Visit,Visit,S,OP,1970-01-01,2099-12-31,",
                "316139,Heart failure,Condition,SNOMED,Clinical Finding,S,84114007,1970-01-01,2099-12-31,",
                "3004410,Hemoglobin A1c/Hemoglobin.total in Blood,Measurement,LOINC,Lab Test,S,4548-4,1970-01-01,2099-12-31,",
                "3027172,Left ventricular Ejection fraction,Measurement,LOINC,Clinical Observation,S,10230-1,1970-01-01,2099-12-31,",
                "8554,percent,Unit,UCUM,Unit,S,%,1970-01-01,2099-12-31,")
            .Write(
                "person.csv",
                "person_id,gender_concept_id,year_of_birth,month_of_birth,day_of_birth,race_concept_id,ethnicity_concept_id",
                "1,8507,1950,3,1,8527,38003564",
                "2,8532,1962,7,15,8527,38003564",
                "3,8532,1971,1,1,8527,38003564")
            .Write(
                "observation_period.csv",
                "observation_period_id,person_id,observation_period_start_date,observation_period_end_date,period_type_concept_id",
                "1,1,2015-01-01,2023-12-31,32880",
                "2,2,2016-01-01,2023-12-31,32880",
                "3,3,2017-01-01,2023-12-31,32880")
            .Write(
                "visit_occurrence.csv",
                "visit_occurrence_id,person_id,visit_concept_id,visit_start_date,visit_end_date,visit_type_concept_id",
                "1,1,9202,2018-05-01,2018-05-01,32817",
                "2,2,9202,2019-06-01,2019-06-01,32817",
                "3,3,9202,2020-07-01,2020-07-01,32817")
            .Write(
                "condition_occurrence.csv",
                "condition_occurrence_id,person_id,condition_concept_id,condition_start_date,condition_end_date,condition_type_concept_id,visit_occurrence_id",
                "1,1,316139,2018-05-01,2018-06-01,32817,1",
                "2,2,316139,2019-06-01,,32817,2")
            .Write(
                "measurement.csv",
                "measurement_id,person_id,measurement_concept_id,measurement_date,measurement_type_concept_id,value_as_number,unit_concept_id,visit_occurrence_id",
                "1,1,3004410,2018-05-01,32817,6.8,8554,1",
                "2,2,3004410,2019-06-01,32817,5.4,8554,2",
                "3,1,3027172,2018-05-01,32817,35,8554,1",
                "4,3,3027172,2020-07-01,32817,55,8554,3")
            .Write(
                "wearable_daily.csv",
                "person_id,measurement_date,device,steps,resting_hr,hrv_rmssd,sleep_minutes,wear_minutes",
                "1,2020-01-01,watch,6500,62,38.5,420,1300",
                "1,2020-01-02,watch,7200,61,41.0,445,1320",
                "2,2020-01-01,ring,4100,70,25.2,390,1400")
            .Write(
                "variant_occurrence.csv",
                "variant_occurrence_id,person_id,sample_date,gene_symbol,hgvs_c,hgvs_p,rsid,chromosome,position,reference_allele,alternate_allele,zygosity,clinical_significance",
                "1,2,2019-02-01,TTN,c.1234del,p.Gly412fs,,2,178700000,A,-,heterozygous,pathogenic");
        await new OmopCsvLoader(DataSource).LoadAsync("clean", folder.Path, new OmopLoadOptions(), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await Database.DisposeAsync();
    }
}

/// <summary>The report on consistent data must not fail; a planted implausible value must.</summary>
public sealed class CleanDataQualityTests(CleanDataFixture fixture) : IClassFixture<CleanDataFixture>
{

    [Fact]
    public async Task Dq_on_a_small_clean_dataset_has_no_failing_check()
    {
        var report = await new DataQualityRunner(fixture.DataSource).RunAsync("clean", CancellationToken.None);

        Assert.True(report.Passed, string.Join("; ", report.Results.Where(r => r.Status == DqStatus.Fail).Select(r => $"{r.Id}: {r.Violating}/{r.Total}")));
        var byId = report.Results.ToDictionary(r => r.Id);
        Assert.Equal(DqStatus.Pass, byId["consistency.person_exists.observation_period"].Status);
        Assert.Equal(DqStatus.Pass, byId["consistency.within_observation.wearable_daily"].Status);
        Assert.Equal(DqStatus.Pass, byId["consistency.variant_sample_date.variant_occurrence"].Status);
        Assert.Equal(DqStatus.Pass, byId["conformance.concept_exists.measurement.measurement_concept_id"].Status);
        Assert.Equal((DqStatus.Pass, 2L), (byId["plausibility.measurement_range.lvef"].Status, byId["plausibility.measurement_range.lvef"].Total));
        Assert.Equal((DqStatus.Pass, 2L), (byId["plausibility.measurement_range.hba1c"].Status, byId["plausibility.measurement_range.hba1c"].Total));
        Assert.Equal(DqStatus.Pass, byId["completeness.persons_with_records.observation_period"].Status);
    }

    [Fact]
    public async Task Dq_fails_an_implausible_lvef_found_through_its_loinc_code_and_a_wearable_day_of_an_unknown_person()
    {
        await using var connection = await fixture.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync(
            """
            INSERT INTO cdm_clean.measurement (measurement_id, person_id, measurement_concept_id, measurement_date, measurement_type_concept_id, value_as_number)
            VALUES (99, 3, 3027172, DATE '2021-01-01', 32817, 150);
            INSERT INTO cdm_clean.wearable_daily (person_id, measurement_date, device, steps) VALUES (404, DATE '2021-01-01', 'watch', 1000);
            """);

        var checks = DqCheckCatalog.Build(Warehouse.Schema.CdmSpecification.Load())
            .Where(c => c.Id is "plausibility.measurement_range.lvef" or "consistency.person_exists.wearable_daily")
            .ToList();
        var report = await new DataQualityRunnerOnConnection(connection).RunAsync(checks);
        await transaction.RollbackAsync();

        Assert.All(report, r => Assert.Equal(DqStatus.Fail, r.Status));
        Assert.Equal(1, report.Single(r => r.Id == "plausibility.measurement_range.lvef").Violating);
    }

    /// <summary>Runs checks inside the test's open transaction (so the test can roll its bad rows back).</summary>
    private sealed class DataQualityRunnerOnConnection(NpgsqlConnection connection)
    {
        public async Task<List<DqResult>> RunAsync(IEnumerable<DqCheck> checks)
        {
            var results = new List<DqResult>();
            foreach (var check in checks)
            {
                var sql = check.Sql.Replace(Warehouse.Schema.SqlResources.SchemaPlaceholder, "cdm_clean", StringComparison.Ordinal);
                var (violating, total) = await connection.QuerySingleAsync<(long, long)>(sql, check.Parameters);
                results.Add(new DqResult(check.Id, check.Category, check.Table, check.Field, check.Description, check.StatusOf(violating, total), violating, total, 0, check.FailAbovePercent, check.WarnAbovePercent, null));
            }

            return results;
        }
    }
}
