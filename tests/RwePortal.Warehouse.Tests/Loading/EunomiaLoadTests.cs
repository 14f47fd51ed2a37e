using Dapper;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Warehouse.Tests.Loading;

[Collection(EunomiaCollection.Name)]
public sealed class EunomiaLoadTests(EunomiaFixture eunomia)
{
    [Fact]
    public async Task Eunomia_loads_2694_persons_and_every_table_has_exactly_the_rows_of_its_file()
    {
        await using var connection = await eunomia.DataSource.OpenConnectionAsync();

        Assert.Equal(2694, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM cdm_eunomia.person"));
        var loaded = eunomia.Load.Tables.ToDictionary(t => t.File, t => t.Rows);
        foreach (var (file, rows) in eunomia.ManifestRows.Where(m => m.Key != "cohort_attribute.csv"))
        {
            var table = Path.GetFileNameWithoutExtension(file);
            var count = await connection.ExecuteScalarAsync<long>($"SELECT count(*) FROM cdm_eunomia.{table}");
            Assert.True(rows == count, $"{table}: {count} rows in the warehouse, {rows} in {file}");
            Assert.Equal(rows, loaded[file]);
        }

        Assert.Equal(36, eunomia.Load.Tables.Count);
        Assert.Equal(65690, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM cdm_eunomia.concept_ancestor"));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM cdm_eunomia.death"));
    }

    [Fact]
    public void Eunomia_files_that_are_no_cdm_54_table_are_skipped_and_duplicate_ids_are_reported_not_fatal()
    {
        Assert.Equal(["_provenance_manifest.csv", "cohort_attribute.csv"], eunomia.Load.SkippedFiles);
        Assert.Equal(
            ["drug_exposure", "measurement", "observation"],
            eunomia.Load.PrimaryKeyViolations.Select(v => v.Table).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Eunomia_cdm_53_visit_columns_land_in_their_54_names_and_the_registry_records_the_counts()
    {
        await using var connection = await eunomia.DataSource.OpenConnectionAsync();

        var visits = eunomia.Load.Tables.Single(t => t.Table == "visit_occurrence");
        Assert.Equal("admitted_from_concept_id", visits.RenamedColumns["admitting_source_concept_id"]);
        Assert.Equal("discharged_to_concept_id", visits.RenamedColumns["discharge_to_concept_id"]);
        Assert.Equal(1037, await connection.ExecuteScalarAsync<long>("SELECT count(admitted_from_concept_id) FROM cdm_eunomia.visit_occurrence"));
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("SELECT cdm_version_concept_id FROM cdm_eunomia.cdm_source"));

        var source = await new DataSourceRegistry(eunomia.DataSource).FindAsync(EunomiaFixture.SourceName, CancellationToken.None);
        Assert.NotNull(source);
        Assert.NotNull(source.LoadedAt);
        Assert.Equal(2694, source.Persons);
        Assert.Equal(67707, source.RowCounts["drug_exposure"]);
    }

    [Fact]
    public async Task Eunomia_load_builds_the_cohort_indexes_and_statistics()
    {
        await using var connection = await eunomia.DataSource.OpenConnectionAsync();

        var indexes = await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = 'cdm_eunomia' AND indexname = 'ix_condition_occurrence_concept_person_start'");
        Assert.Equal(1, indexes);
        var analyzed = await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM pg_stat_user_tables WHERE schemaname = 'cdm_eunomia' AND last_analyze IS NOT NULL");
        Assert.True(analyzed >= 39, $"{analyzed} tables analyzed");
    }
}
