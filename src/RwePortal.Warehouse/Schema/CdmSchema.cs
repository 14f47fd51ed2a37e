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
            SqlResources.ReadForSchema(SqlResources.WearablesDdl, schemaName),
            SqlResources.ReadForSchema(SqlResources.AggregatesDdl, schemaName));
        await ExecuteAsync(connection, sql, cancellationToken);
    }

    /// <summary>
    /// Applies the CDM primary keys (db/omop/primary_keys.sql) and creates the secondary indexes of the CDM and
    /// extension tables. Idempotent. A primary key that the data violates (duplicate ids, as in the Eunomia
    /// sample) is not created: it is reported in the result and a plain index on its columns is built instead,
    /// so look-ups by id stay fast and the data-quality report shows the duplicates.
    /// </summary>
    public static async Task<IndexBuildResult> CreateIndexesAsync(NpgsqlConnection connection, string schemaName, CancellationToken cancellationToken)
    {
        SchemaName.Validate(schemaName);
        if (connection.State != System.Data.ConnectionState.Open)
        {
            await connection.OpenAsync(cancellationToken);
        }

        var violated = new List<PrimaryKeyViolation>();
        foreach (var key in PrimaryKeys(schemaName))
        {
            await using var exists = new NpgsqlCommand(
                "SELECT EXISTS (SELECT 1 FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = @schema AND c.conname = @name)",
                connection);
            exists.Parameters.AddWithValue("schema", schemaName);
            exists.Parameters.AddWithValue("name", key.ConstraintName);
            if ((bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
            {
                continue;
            }

            try
            {
                await ExecuteAsync(connection, key.Sql, cancellationToken);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                violated.Add(new PrimaryKeyViolation(key.Table, key.Columns, e.MessageText));
                await ExecuteAsync(
                    connection,
                    $"CREATE INDEX IF NOT EXISTS ix_{key.Table}_{key.Columns.Replace(", ", "_", StringComparison.Ordinal).Replace("\"", string.Empty, StringComparison.Ordinal)} ON {schemaName}.{key.Table} ({key.Columns});",
                    cancellationToken);
            }
        }

        var sql = string.Join(
            "\n",
            SqlResources.ReadForSchema(SqlResources.CdmIndexes, schemaName),
            SqlResources.ReadForSchema(SqlResources.ExtensionIndexes, schemaName));
        await ExecuteAsync(connection, sql, cancellationToken);
        return new IndexBuildResult(violated);
    }

    private static IEnumerable<PrimaryKeyStatement> PrimaryKeys(string schemaName)
    {
        foreach (var line in SqlResources.ReadForSchema(SqlResources.CdmPrimaryKeys, schemaName).Split('\n'))
        {
            if (!line.StartsWith("ALTER TABLE ", StringComparison.Ordinal))
            {
                continue;
            }

            // ALTER TABLE schema.table ADD CONSTRAINT name PRIMARY KEY (columns);
            var parts = line.Split(' ');
            var table = parts[2][(parts[2].IndexOf('.', StringComparison.Ordinal) + 1)..];
            var columns = line[(line.IndexOf('(', StringComparison.Ordinal) + 1)..line.LastIndexOf(')')];
            yield return new PrimaryKeyStatement(table, parts[5], columns, line);
        }
    }

    private sealed record PrimaryKeyStatement(string Table, string ConstraintName, string Columns, string Sql);

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
