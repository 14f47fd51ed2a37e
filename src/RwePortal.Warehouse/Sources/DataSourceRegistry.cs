using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using RwePortal.Warehouse.Schema;

namespace RwePortal.Warehouse.Sources;

/// <summary>
/// The registry of OMOP data sources (app.data_sources, db/app/data_sources.sql): each source has a schema
/// cdm_&lt;name&gt; with the CDM 5.4 and extension tables, the row counts of its last load and its custodian tenant.
/// DDL runs only at migration (<see cref="EnsureAsync(NpgsqlConnection, CancellationToken)"/>) and registration
/// (<see cref="AddAsync(string, string, Guid?, CancellationToken)"/>); reads never create anything.
/// </summary>
public sealed partial class DataSourceRegistry(NpgsqlDataSource dataSource)
{
    /// <summary>The CDM version of the schemas this code creates.</summary>
    public const string CdmVersion = "5.4";

    private const int CommandTimeoutSeconds = 60;

    /// <summary>Whether a data source name is valid: lowercase letters, digits and _, so that cdm_&lt;name&gt; is a valid schema.</summary>
    public static bool IsValidName(string? name) =>
        name is { Length: > 0 } && NamePattern().IsMatch(name) && SchemaName.IsValid("cdm_" + name);

    /// <summary>The role that runs analysis SQL: SELECT on every registered source's tables, nothing else of the warehouse.</summary>
    public const string ReaderRole = "rwe_reader";

    private const string NotMigratedMessage = "the data source registry does not exist yet: run ./rwe demo or ./rwe migrate";

    /// <summary>Creates schema app and app.data_sources if they are missing (migration time).</summary>
    public async Task EnsureAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await EnsureAsync(connection, cancellationToken);
    }

    /// <summary>
    /// Creates schema app and app.data_sources if they are missing, on the given connection, and grants the reader
    /// role the tables of every registered source (migration time).
    /// </summary>
    public static async Task EnsureAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var sql = "SELECT pg_advisory_xact_lock(hashtext('rweportal.app.data_sources'));\n" + SqlResources.Read(SqlResources.DataSourcesDdl);
        await CdmSchema.ExecuteAsync(connection, sql, cancellationToken);
    }

    /// <summary>
    /// Registers a data source and creates its schema cdm_&lt;name&gt; with all CDM and extension tables (without
    /// secondary indexes: loads build them afterwards). Both happen in one transaction. An existing schema of that
    /// name that is not registered yet is kept and registered.
    /// </summary>
    /// <exception cref="WarehouseException">The name is invalid or already registered.</exception>
    public Task<DataSource> AddAsync(string name, string description, CancellationToken cancellationToken) =>
        AddAsync(name, description, null, cancellationToken);

    /// <summary>
    /// As <see cref="AddAsync(string, string, CancellationToken)"/>, with the custodian tenant (the tenant that holds
    /// the source's consent) set at registration. The reader role gets SELECT on the new schema's tables.
    /// </summary>
    /// <exception cref="WarehouseException">The name is invalid or already registered.</exception>
    public async Task<DataSource> AddAsync(string name, string description, Guid? custodianTenantId, CancellationToken cancellationToken)
    {
        if (!IsValidName(name))
        {
            throw new WarehouseException(
                $"'{name}' is not a valid data source name: use lowercase letters, digits and _ (at most {SchemaName.MaxLength - 4} characters)");
        }

        var schemaName = SchemaName.ForSource(name);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await EnsureAsync(connection, cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var existing = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT name FROM app.data_sources WHERE name = @name OR schema_name = @schemaName",
            new { name, schemaName },
            transaction,
            CommandTimeoutSeconds,
            cancellationToken: cancellationToken));
        if (existing is not null)
        {
            throw new WarehouseException($"data source '{name}' already exists");
        }

        await CdmSchema.CreateAsync(connection, schemaName, cancellationToken);
        try
        {
            var row = await connection.QuerySingleAsync<Row>(new CommandDefinition(
                $"""
                INSERT INTO app.data_sources (name, description, cdm_version, schema_name, custodian_tenant_id)
                VALUES (@name, @description, @cdmVersion, @schemaName, @custodianTenantId)
                RETURNING {Columns}
                """,
                new { name, description, cdmVersion = CdmVersion, schemaName, custodianTenantId },
                transaction,
                CommandTimeoutSeconds,
                cancellationToken: cancellationToken));
            await GrantReaderAsync(connection, schemaName, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return row.ToDataSource();
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // Another process registered the same name between the check above and this insert.
            throw new WarehouseException($"data source '{name}' already exists", e);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            throw new WarehouseException($"custodian tenant {custodianTenantId} does not exist", e);
        }
    }

    /// <summary>
    /// Sets (or, with null, clears) the custodian of a source: the operator's act (owner role), since it moves who
    /// may read and write the source's consent history.
    /// </summary>
    /// <exception cref="WarehouseException">No data source has that name, or the tenant does not exist.</exception>
    public async Task SetCustodianAsync(string name, Guid? custodianTenantId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var updated = await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE app.data_sources SET custodian_tenant_id = @custodianTenantId WHERE name = @name",
                new { name, custodianTenantId },
                commandTimeout: CommandTimeoutSeconds,
                cancellationToken: cancellationToken));
            if (updated == 0)
            {
                throw new WarehouseException($"data source '{name}' does not exist: add it with `rwe source add {name}`");
            }
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            throw new WarehouseException($"custodian tenant {custodianTenantId} does not exist", e);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            throw new WarehouseException(NotMigratedMessage, e);
        }
    }

    /// <summary>
    /// Grants the reader role USAGE on the schema and SELECT on its tables, now and for tables created in it later
    /// by the role that registers. The schema name is validated, then quoted.
    /// </summary>
    private static async Task GrantReaderAsync(NpgsqlConnection connection, string schemaName, CancellationToken cancellationToken)
    {
        var schema = "\"" + SchemaName.Validate(schemaName) + "\"";
        await CdmSchema.ExecuteAsync(
            connection,
            $"""
            GRANT USAGE ON SCHEMA {schema} TO {ReaderRole};
            GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {ReaderRole};
            ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO {ReaderRole};
            """,
            cancellationToken);
    }

    /// <summary>All registered data sources, by name.</summary>
    /// <exception cref="WarehouseException">The registry does not exist (the database is not migrated).</exception>
    public async Task<IReadOnlyList<DataSource>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var rows = await connection.QueryAsync<Row>(new CommandDefinition(
                $"SELECT {Columns} FROM app.data_sources ORDER BY name",
                commandTimeout: CommandTimeoutSeconds,
                cancellationToken: cancellationToken));
            return rows.Select(r => r.ToDataSource()).ToList();
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            throw new WarehouseException(NotMigratedMessage, e);
        }
    }

    /// <summary>The data source of that name, or null.</summary>
    public async Task<DataSource?> FindAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await FindAsync(connection, name, cancellationToken);
    }

    /// <summary>The data source of that name, or null, on the given connection (and its transaction, if any).</summary>
    /// <exception cref="WarehouseException">The registry does not exist (the database is not migrated).</exception>
    public static async Task<DataSource?> FindAsync(NpgsqlConnection connection, string name, CancellationToken cancellationToken)
    {
        try
        {
            var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
                $"SELECT {Columns} FROM app.data_sources WHERE name = @name",
                new { name },
                commandTimeout: CommandTimeoutSeconds,
                cancellationToken: cancellationToken));
            return row?.ToDataSource();
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            throw new WarehouseException(NotMigratedMessage, e);
        }
    }

    /// <summary>
    /// Records a load: sets loaded_at to now and merges <paramref name="rowCounts"/> (table → rows) into row_counts;
    /// tables that were not loaded keep their previous counts.
    /// </summary>
    /// <exception cref="WarehouseException">No data source has that name.</exception>
    public async Task RecordLoadAsync(string name, IReadOnlyDictionary<string, long> rowCounts, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await RecordLoadAsync(connection, name, rowCounts, cancellationToken);
    }

    /// <summary>As <see cref="RecordLoadAsync(string, IReadOnlyDictionary{string, long}, CancellationToken)"/>, inside the connection's transaction.</summary>
    public static async Task RecordLoadAsync(
        NpgsqlConnection connection,
        string name,
        IReadOnlyDictionary<string, long> rowCounts,
        CancellationToken cancellationToken)
    {
        var counts = JsonSerializer.Serialize(rowCounts);
        var updated = await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE app.data_sources
            SET loaded_at = now(), row_counts = row_counts || CAST(@counts AS jsonb)
            WHERE name = @name
            """,
            new { name, counts },
            commandTimeout: CommandTimeoutSeconds,
            cancellationToken: cancellationToken));
        if (updated == 0)
        {
            throw new WarehouseException($"data source '{name}' does not exist: add it with `rwe source add {name}`");
        }
    }

    private const string Columns =
        "id AS Id, name AS Name, description AS Description, cdm_version AS CdmVersion, schema_name AS SchemaName, " +
        "created_at AS CreatedAt, loaded_at AS LoadedAt, row_counts::text AS RowCounts, custodian_tenant_id AS CustodianTenantId";

    [GeneratedRegex("^[a-z0-9_]+$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    private sealed record Row(
        Guid Id,
        string Name,
        string Description,
        string CdmVersion,
        string SchemaName,
        DateTime CreatedAt,
        DateTime? LoadedAt,
        string RowCounts,
        Guid? CustodianTenantId)
    {
        public DataSource ToDataSource() => new(
            Id,
            Name,
            Description,
            CdmVersion,
            SchemaName,
            new DateTimeOffset(DateTime.SpecifyKind(CreatedAt, DateTimeKind.Utc)),
            LoadedAt is { } loaded ? new DateTimeOffset(DateTime.SpecifyKind(loaded, DateTimeKind.Utc)) : null,
            JsonSerializer.Deserialize<Dictionary<string, long>>(RowCounts) ?? [],
            CustodianTenantId);
    }
}
