using Npgsql;

namespace RwePortal.Warehouse.Schema;

/// <summary>
/// Creates and drops the schema of one OMOP data source: the 39 CDM 5.4 tables (db/omop/cdm54.sql) and the
/// genomic and wearable extension tables (db/extensions/), and builds their secondary indexes.
/// </summary>
public static class CdmSchema
{
    /// <summary>
    /// Creates <paramref name="schemaName"/> with all CDM and extension tables and their primary keys, without
    /// secondary indexes (bulk loads are faster without them; call <see cref="CreateIndexesAsync"/> afterwards).
    /// Idempotent: existing tables are kept as they are.
    /// </summary>
    public static async Task CreateAsync(NpgsqlConnection connection, string schemaName, CancellationToken cancellationToken)
    {
        SchemaName.Validate(schemaName);
        var sql = string.Join(
            "\n",
            $"CREATE SCHEMA IF NOT EXISTS {schemaName};",
            SqlResources.ReadForSchema(SqlResources.CdmDdl, schemaName),
            SqlResources.ReadForSchema(SqlResources.GenomicsDdl, schemaName),
            SqlResources.ReadForSchema(SqlResources.WearablesDdl, schemaName));
        await ExecuteAsync(connection, sql, cancellationToken);
    }

    /// <summary>Creates the secondary indexes of the CDM and extension tables (idempotent).</summary>
    public static async Task CreateIndexesAsync(NpgsqlConnection connection, string schemaName, CancellationToken cancellationToken)
    {
        SchemaName.Validate(schemaName);
        var sql = string.Join(
            "\n",
            SqlResources.ReadForSchema(SqlResources.CdmIndexes, schemaName),
            SqlResources.ReadForSchema(SqlResources.ExtensionIndexes, schemaName));
        await ExecuteAsync(connection, sql, cancellationToken);
    }

    /// <summary>Drops the schema and everything in it (for regenerating a synthetic source).</summary>
    public static async Task DropAsync(NpgsqlConnection connection, string schemaName, CancellationToken cancellationToken)
    {
        SchemaName.Validate(schemaName);
        await ExecuteAsync(connection, $"DROP SCHEMA IF EXISTS {schemaName} CASCADE;", cancellationToken);
    }

    /// <summary>Updates planner statistics of every table in the schema.</summary>
    public static async Task AnalyzeAsync(NpgsqlConnection connection, string schemaName, CancellationToken cancellationToken)
    {
        SchemaName.Validate(schemaName);
        var tables = CdmSpecification.Load().Tables.Select(t => t.Name)
            .Concat(ExtensionTables)
            .Select(t => $"{schemaName}.{t}");
        await ExecuteAsync(connection, $"ANALYZE {string.Join(", ", tables)};", cancellationToken);
    }

    /// <summary>The extension tables every data-source schema has besides the CDM tables.</summary>
    public static IReadOnlyList<string> ExtensionTables { get; } =
        ["variant_occurrence", "genomic_score", "wearable_daily", "wearable_hourly"];

    internal static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        if (connection.State != System.Data.ConnectionState.Open)
        {
            await connection.OpenAsync(cancellationToken);
        }

        // A multi-statement batch without parameters runs as one implicit transaction: all or nothing.
        await using var command = new NpgsqlCommand(sql, connection);
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
