using Dapper;
using Npgsql;
using RwePortal.Testing;
using RwePortal.Warehouse.Schema;

namespace RwePortal.Warehouse.Tests.Schema;

public sealed class CdmSchemaTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public void Committed_cdm54_sql_and_primary_keys_sql_equal_the_generator_output_so_nobody_hand_edits_them()
    {
        var specification = CdmSpecification.Load();

        Assert.True(
            CdmDdlGenerator.Generate(specification) == SqlResources.Read(SqlResources.CdmDdl),
            "db/omop/cdm54.sql differs from the generator output: regenerate it with `rwe cdm-ddl > db/omop/cdm54.sql`.");
        Assert.True(
            CdmDdlGenerator.GeneratePrimaryKeys(specification) == SqlResources.Read(SqlResources.CdmPrimaryKeys),
            "db/omop/primary_keys.sql differs from the generator output: regenerate it with `rwe cdm-ddl --primary-keys > db/omop/primary_keys.sql`.");
    }

    [Fact]
    public void Specification_has_39_tables_and_432_fields_with_person_ids_as_bigint()
    {
        var specification = CdmSpecification.Load();

        Assert.Equal(39, specification.Tables.Count);
        Assert.Equal(432, specification.Tables.Sum(t => t.Fields.Count));
        Assert.All(
            specification.Tables.SelectMany(t => t.Fields).Where(f => f.Name == "person_id"),
            f => Assert.Equal("bigint", f.PostgresType));
        Assert.Equal("numeric", specification.Table("measurement").Fields.Single(f => f.Name == "value_as_number").PostgresType);
        Assert.Equal("timestamp", specification.Table("measurement").Fields.Single(f => f.Name == "measurement_datetime").PostgresType);
        Assert.Equal("text", specification.Table("note").Fields.Single(f => f.Name == "note_text").PostgresType);
        Assert.Equal("varchar(50)", specification.Table("person").Fields.Single(f => f.Name == "person_source_value").PostgresType);
    }

    [Fact]
    public async Task CreateAsync_creates_the_39_cdm_tables_and_4_extension_tables_and_is_idempotent()
    {
        await using var connection = new NpgsqlConnection(database.OwnerConnectionString);
        await connection.OpenAsync();

        await CdmSchema.CreateAsync(connection, "cdm_schema_test", CancellationToken.None);
        await CdmSchema.CreateAsync(connection, "cdm_schema_test", CancellationToken.None);

        var tables = (await connection.QueryAsync<string>(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'cdm_schema_test'")).ToHashSet();
        var cdmTables = CdmSpecification.Load().Tables.Select(t => t.Name).ToList();
        Assert.Equal(39, cdmTables.Count(tables.Contains));
        Assert.Subset(tables, CdmSchema.ExtensionTables.ToHashSet());
        Assert.Subset(tables, RwePortal.Warehouse.Cohorts.SubgroupAggregates.Tables.ToHashSet());
        Assert.Equal(43 + RwePortal.Warehouse.Cohorts.SubgroupAggregates.Tables.Count, tables.Count);

        // Only the extension tables have their keys now; the CDM keys are built after loads.
        Assert.Equal(4, await CountConstraintsAsync(connection, "cdm_schema_test", "PRIMARY KEY"));
        Assert.Equal(0, await CountConstraintsAsync(connection, "cdm_schema_test", "FOREIGN KEY"));
    }

    [Fact]
    public async Task CreateIndexesAsync_applies_the_28_spec_primary_keys_and_reports_a_key_the_data_violates()
    {
        await using var connection = new NpgsqlConnection(database.OwnerConnectionString);
        await connection.OpenAsync();
        await CdmSchema.CreateAsync(connection, "cdm_key_test", CancellationToken.None);
        await connection.ExecuteAsync(
            """
            INSERT INTO cdm_key_test.drug_exposure (drug_exposure_id, person_id, drug_concept_id, drug_exposure_start_date, drug_exposure_end_date, drug_type_concept_id)
            VALUES (7, 1, 0, DATE '2020-01-01', DATE '2020-01-02', 0), (7, 2, 0, DATE '2020-01-01', DATE '2020-01-02', 0)
            """);

        var result = await CdmSchema.CreateIndexesAsync(connection, "cdm_key_test", CancellationToken.None);
        var again = await CdmSchema.CreateIndexesAsync(connection, "cdm_key_test", CancellationToken.None);

        var violation = Assert.Single(result.PrimaryKeyViolations);
        Assert.Equal("drug_exposure", violation.Table);
        Assert.Equal(violation, Assert.Single(again.PrimaryKeyViolations));
        Assert.Equal(4 + 27, await CountConstraintsAsync(connection, "cdm_key_test", "PRIMARY KEY"));
        var fallback = await connection.ExecuteScalarAsync<string>(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'cdm_key_test' AND indexname = 'ix_drug_exposure_drug_exposure_id'");
        Assert.Contains("(drug_exposure_id)", fallback, StringComparison.Ordinal);
    }

    private static Task<long> CountConstraintsAsync(NpgsqlConnection connection, string schema, string type) =>
        connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM information_schema.table_constraints WHERE table_schema = @schema AND constraint_type = @type",
            new { schema, type });

    [Fact]
    public async Task CreateIndexesAsync_adds_the_concept_person_date_and_person_date_indexes_of_event_tables()
    {
        await using var connection = new NpgsqlConnection(database.OwnerConnectionString);
        await connection.OpenAsync();
        await CdmSchema.CreateAsync(connection, "cdm_index_test", CancellationToken.None);

        await CdmSchema.CreateIndexesAsync(connection, "cdm_index_test", CancellationToken.None);
        await CdmSchema.CreateIndexesAsync(connection, "cdm_index_test", CancellationToken.None);

        var definitions = (await connection.QueryAsync<string>(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'cdm_index_test'")).ToList();
        Assert.Contains(definitions, d => d.Contains("condition_occurrence USING btree (condition_concept_id, person_id, condition_start_date)", StringComparison.Ordinal));
        Assert.Contains(definitions, d => d.Contains("measurement USING btree (person_id, measurement_date)", StringComparison.Ordinal));
        Assert.Contains(definitions, d => d.Contains("concept_ancestor USING btree (ancestor_concept_id, descendant_concept_id)", StringComparison.Ordinal));
        Assert.Contains(definitions, d => d.Contains("concept USING btree (concept_code, vocabulary_id)", StringComparison.Ordinal));
        Assert.Contains(definitions, d => d.Contains("variant_occurrence USING btree (gene_symbol, person_id, sample_date)", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("public")]
    [InlineData("cdm_")]
    [InlineData("cdm_x; DROP TABLE app.data_sources")]
    [InlineData("CDM_UPPER")]
    [InlineData("cdm_\"quoted\"")]
    public async Task CreateAsync_rejects_schema_names_that_are_not_cdm_lowercase_identifiers(string schemaName)
    {
        await using var connection = new NpgsqlConnection(database.OwnerConnectionString);

        await Assert.ThrowsAsync<ArgumentException>(() => CdmSchema.CreateAsync(connection, schemaName, CancellationToken.None));
    }

    [Fact]
    public async Task Extension_tables_reject_values_outside_their_allowed_sets()
    {
        await using var connection = new NpgsqlConnection(database.OwnerConnectionString);
        await connection.OpenAsync();
        await CdmSchema.CreateAsync(connection, "cdm_check_test", CancellationToken.None);

        await connection.ExecuteAsync(
            "INSERT INTO cdm_check_test.variant_occurrence (variant_occurrence_id, person_id, zygosity, clinical_significance) VALUES (1, 1, 'heterozygous', 'pathogenic')");
        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync(
            "INSERT INTO cdm_check_test.variant_occurrence (variant_occurrence_id, person_id, zygosity) VALUES (2, 1, 'compound')"));
        Assert.Equal(PostgresErrorCodes.CheckViolation, error.SqlState);
    }
}
