using Dapper;
using Npgsql;
using RwePortal.Testing;
using RwePortal.Warehouse.Schema;

namespace RwePortal.Warehouse.Tests.Schema;

public sealed class CdmSchemaTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public void Committed_cdm54_sql_equals_the_generator_output_so_nobody_hand_edits_it()
    {
        var generated = CdmDdlGenerator.Generate(CdmSpecification.Load());
        var committed = SqlResources.Read(SqlResources.CdmDdl);

        Assert.True(
            generated == committed,
            "db/omop/cdm54.sql differs from the generator output: regenerate it with `rwe cdm-ddl > db/omop/cdm54.sql`.");
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
        Assert.Equal(43, tables.Count);

        var primaryKeys = await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM information_schema.table_constraints WHERE table_schema = 'cdm_schema_test' AND constraint_type = 'PRIMARY KEY'");
        Assert.Equal(28 + 4, primaryKeys);
        var foreignKeys = await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM information_schema.table_constraints WHERE table_schema = 'cdm_schema_test' AND constraint_type = 'FOREIGN KEY'");
        Assert.Equal(0, foreignKeys);
    }

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
