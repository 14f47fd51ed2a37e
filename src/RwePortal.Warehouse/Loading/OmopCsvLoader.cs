using System.Diagnostics;
using CsvHelper;
using Dapper;
using Npgsql;
using NpgsqlTypes;
using RwePortal.Warehouse.Schema;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Warehouse.Loading;

/// <summary>
/// Loads an OMOP CSV export (one file per table, named like the table in any case; CDM 5.3 or 5.4 columns) into
/// a registered data source with binary COPY. Every value is checked against its column while streaming; all
/// files load in one transaction, so a bad file leaves the warehouse exactly as it was. Afterwards the row counts
/// are recorded in the registry (same transaction), and indexes and statistics are built.
/// </summary>
public sealed class OmopCsvLoader(NpgsqlDataSource dataSource)
{
    private const int CatalogTimeoutSeconds = 60;

    public async Task<OmopLoadResult> LoadAsync(
        string sourceName,
        string directory,
        OmopLoadOptions options,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var source = await DataSourceRegistry.FindAsync(connection, sourceName, cancellationToken)
            ?? throw new WarehouseException($"data source '{sourceName}' does not exist: add it with `rwe source add {sourceName}`");
        var schemaName = SchemaName.Validate(source.SchemaName);
        if (!Directory.Exists(directory))
        {
            throw new WarehouseException($"folder '{directory}' does not exist");
        }

        var catalog = await ReadCatalogAsync(connection, schemaName, cancellationToken);
        var (plans, skipped) = PlanFiles(directory, catalog);
        if (plans.Count == 0)
        {
            throw new WarehouseException($"folder '{directory}' has no CSV file named like a table of {schemaName} (e.g. person.csv)");
        }

        var copyClock = Stopwatch.StartNew();
        var loads = new List<TableLoad>();
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            await PrepareTablesAsync(connection, schemaName, plans, options, cancellationToken);
            foreach (var plan in plans)
            {
                loads.Add(await LoadFileAsync(connection, schemaName, plan, cancellationToken));
            }

            var counts = loads.ToDictionary(l => l.Table, l => l.Rows, StringComparer.Ordinal);
            await DataSourceRegistry.RecordLoadAsync(connection, sourceName, counts, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        copyClock.Stop();
        var indexClock = Stopwatch.StartNew();
        var indexes = await CdmSchema.CreateIndexesAsync(connection, schemaName, cancellationToken);
        indexClock.Stop();
        var analyzeClock = Stopwatch.StartNew();
        await CdmSchema.AnalyzeAsync(connection, schemaName, cancellationToken);
        // The subgroup pre-aggregations follow the tables they summarise (decision 0741).
        await Cohorts.SubgroupAggregates.RebuildAsync(connection, schemaName, cancellationToken);
        analyzeClock.Stop();
        return new OmopLoadResult(schemaName, loads, skipped, indexes.PrimaryKeyViolations, copyClock.Elapsed, indexClock.Elapsed, analyzeClock.Elapsed);
    }

    private static (List<FilePlan> Plans, List<string> Skipped) PlanFiles(
        string directory,
        Dictionary<string, List<TargetColumn>> catalog)
    {
        var plans = new List<FilePlan>();
        var skipped = new List<string>();
        var files = Directory.EnumerateFiles(directory)
            .Where(f => string.Equals(Path.GetExtension(f), ".csv", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal);
        foreach (var path in files)
        {
            var table = Path.GetFileNameWithoutExtension(path).ToLowerInvariant();
            if (!catalog.TryGetValue(table, out var columns))
            {
                skipped.Add(Path.GetFileName(path));
                continue;
            }

            if (plans.FirstOrDefault(p => p.Table == table) is { } earlier)
            {
                throw new OmopLoadException(Path.GetFileName(path), 0, null, $"table {table} has two files: {Path.GetFileName(earlier.Path)} and {Path.GetFileName(path)}");
            }

            plans.Add(new FilePlan(table, path, columns));
        }

        return (plans, skipped);
    }

    private static async Task PrepareTablesAsync(
        NpgsqlConnection connection,
        string schemaName,
        List<FilePlan> plans,
        OmopLoadOptions options,
        CancellationToken cancellationToken)
    {
        if (options.Replace)
        {
            var tables = string.Join(", ", plans.Select(p => $"{schemaName}.{Quote(p.Table)}"));
            await connection.ExecuteAsync(new CommandDefinition($"TRUNCATE {tables}", commandTimeout: 0, cancellationToken: cancellationToken));
            return;
        }

        foreach (var plan in plans)
        {
            var hasRows = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                $"SELECT EXISTS (SELECT 1 FROM {schemaName}.{Quote(plan.Table)})",
                commandTimeout: CatalogTimeoutSeconds,
                cancellationToken: cancellationToken));
            if (hasRows)
            {
                throw new WarehouseException(
                    $"{schemaName}.{plan.Table} already has rows: nothing was loaded; use --replace to replace the tables this folder has files for");
            }
        }
    }

    private static async Task<TableLoad> LoadFileAsync(
        NpgsqlConnection connection,
        string schemaName,
        FilePlan plan,
        CancellationToken cancellationToken)
    {
        var fileName = Path.GetFileName(plan.Path);
        var separator = DetectSeparator(plan.Path);
        var csvOptions = CsvReaderOptions.Default with
        {
            Separator = separator,
            HasHeader = true,
            TrackLineNumbers = true,
            Mode = separator == '\t' ? CsvMode.NoEscape : CsvMode.Rfc4180,
            MalformedData = CsvMalformedDataHandling.Throw,
            FieldCountMismatch = CsvFieldCountHandling.Allow,
        };
        await using var reader = CsvReader.FromFile(plan.Path, csvOptions);
        try
        {
            await reader.ReadHeaderAsync(cancellationToken);
        }
        catch (CsvFormatException e)
        {
            throw new OmopLoadException(fileName, 1, null, $"the header is not valid CSV: {e.Message}", e);
        }

        var layout = FileLayout.Create(fileName, plan, reader.Headers);
        var copy = $"COPY {schemaName}.{Quote(plan.Table)} ({string.Join(", ", layout.CopyColumns.Select(Quote))}) FROM STDIN (FORMAT BINARY)";
        long rows = 0;
        await using (var importer = await connection.BeginBinaryImportAsync(copy, cancellationToken))
        {
            while (await ReadAsync(reader, fileName, cancellationToken))
            {
                rows++;
                await importer.StartRowAsync(cancellationToken);
                layout.WriteRow(reader, importer, rows);
            }

            try
            {
                await importer.CompleteAsync(cancellationToken);
            }
            catch (PostgresException e)
            {
                var detail = string.IsNullOrEmpty(e.Detail) ? string.Empty : $" ({e.Detail})";
                throw new OmopLoadException(fileName, 0, e.ColumnName, $"rejected by PostgreSQL: {e.MessageText}{detail}", e);
            }
        }

        return new TableLoad(plan.Table, fileName, rows, layout.RenamedColumns);
    }

    private static async Task<bool> ReadAsync(CsvReader reader, string fileName, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.ReadAsync(cancellationToken);
        }
        catch (CsvFormatException e)
        {
            throw new OmopLoadException(fileName, e.LineNumber, null, $"malformed CSV: {e.Message}", e);
        }
    }

    private static char DetectSeparator(string path)
    {
        // OHDSI tools write comma-separated files; Athena vocabulary downloads are tab-separated without quoting.
        using var stream = File.OpenRead(path);
        using var text = new StreamReader(stream);
        var header = text.ReadLine() ?? string.Empty;
        return header.Contains('\t', StringComparison.Ordinal) && !header.Contains(',', StringComparison.Ordinal) ? '\t' : ',';
    }

    private static async Task<Dictionary<string, List<TargetColumn>>> ReadCatalogAsync(
        NpgsqlConnection connection,
        string schemaName,
        CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync<CatalogRow>(new CommandDefinition(
            """
            SELECT c.table_name AS TableName, c.column_name AS Name, c.data_type AS DataType,
                   c.character_maximum_length AS MaxLength, c.is_nullable = 'NO' AS IsRequired
            FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = @schemaName AND t.table_type = 'BASE TABLE'
            ORDER BY c.table_name, c.ordinal_position
            """,
            new { schemaName },
            commandTimeout: CatalogTimeoutSeconds,
            cancellationToken: cancellationToken));
        return rows
            .GroupBy(r => r.TableName, StringComparer.Ordinal)
            .ToDictionary(
                g => g.Key,
                g => g.Select(r => new TargetColumn(r.Name, r.DataType, r.MaxLength, r.IsRequired)).ToList(),
                StringComparer.Ordinal);
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private sealed record FilePlan(string Table, string Path, List<TargetColumn> Columns);

    private sealed record CatalogRow(string TableName, string Name, string DataType, int? MaxLength, bool IsRequired);

    /// <summary>How the fields of one file map to the columns of its table, and how to write a record.</summary>
    private sealed class FileLayout
    {
        private readonly string _fileName;
        private readonly IReadOnlyList<string> _headers;
        private readonly TargetColumn[] _columns;
        private readonly FieldParser[] _parsers;
        private readonly Cdm53Compatibility.FillRule[] _fills;

        private FileLayout(
            string fileName,
            IReadOnlyList<string> headers,
            TargetColumn[] columns,
            Cdm53Compatibility.FillRule[] fills,
            List<string> fillColumns,
            Dictionary<string, string> renamed)
        {
            _fileName = fileName;
            _headers = headers;
            _columns = columns;
            _parsers = columns.Select(FieldParser.For).ToArray();
            _fills = fills;
            CopyColumns = columns.Select(c => c.Name).Concat(fillColumns).ToList();
            RenamedColumns = renamed;
        }

        public IReadOnlyList<string> CopyColumns { get; }

        public IReadOnlyDictionary<string, string> RenamedColumns { get; }

        public static FileLayout Create(string fileName, FilePlan plan, IReadOnlyList<string> headers)
        {
            if (headers.Count == 0 || headers.All(string.IsNullOrWhiteSpace))
            {
                throw new OmopLoadException(fileName, 1, null, "the file has no header row");
            }

            var byName = plan.Columns.ToDictionary(c => c.Name, StringComparer.Ordinal);
            var mapped = new TargetColumn[headers.Count];
            var used = new Dictionary<string, string>(StringComparer.Ordinal);
            var renamed = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < headers.Count; i++)
            {
                var raw = headers[i];
                var name = raw.Trim().TrimStart('\uFEFF').Trim('"').ToLowerInvariant();
                var target = name;
                if (!byName.ContainsKey(name) && Cdm53Compatibility.RenamedTo(plan.Table, name) is { } newName)
                {
                    target = newName;
                    renamed[name] = newName;
                }

                if (!byName.TryGetValue(target, out var column))
                {
                    throw new OmopLoadException(fileName, 1, raw, $"unknown column: table {plan.Table} has no such column");
                }

                if (used.TryGetValue(target, out var earlier))
                {
                    throw new OmopLoadException(fileName, 1, raw, $"appears twice in the header (also as {earlier})");
                }

                used[target] = raw;
                mapped[i] = column;
            }

            var fills = new List<Cdm53Compatibility.FillRule>();
            var fillColumns = new List<string>();
            foreach (var column in plan.Columns.Where(c => c.IsRequired && !used.ContainsKey(c.Name)))
            {
                var fill = Cdm53Compatibility.FillFor(plan.Table, column.Name)
                    ?? throw new OmopLoadException(fileName, 1, column.Name, "required column is missing from the header");
                fills.Add(fill);
                fillColumns.Add(column.Name);
            }

            return new FileLayout(fileName, headers, mapped, fills.ToArray(), fillColumns, renamed);
        }

        /// <summary>Checks and writes the current record; throws <see cref="OmopLoadException"/> at the first bad value.</summary>
        public void WriteRow(CsvReader reader, NpgsqlBinaryImporter importer, long rowNumber)
        {
            var line = reader.LineNumber;
            if (reader.FieldCount != _headers.Count)
            {
                var column = reader.FieldCount < _headers.Count ? _headers[reader.FieldCount] : $"#{_headers.Count + 1} (after {_headers[^1]})";
                throw new OmopLoadException(
                    _fileName,
                    line,
                    column,
                    $"wrong number of fields: the header has {_headers.Count}, this record has {reader.FieldCount}");
            }

            for (var i = 0; i < _columns.Length; i++)
            {
                var value = reader.GetSpan(i);
                if (value.IsEmpty)
                {
                    if (_columns[i].IsRequired)
                    {
                        throw new OmopLoadException(_fileName, line, _headers[i], $"required value is missing ({_columns[i].Name} is NOT NULL)");
                    }

                    importer.WriteNull();
                    continue;
                }

                if (_parsers[i].Write(importer, value) is { } reason)
                {
                    throw new OmopLoadException(_fileName, line, _headers[i], reason);
                }
            }

            foreach (var fill in _fills)
            {
                var value = fill == Cdm53Compatibility.FillRule.RowNumber ? checked((int)rowNumber) : 0;
                importer.Write(value, NpgsqlDbType.Integer);
            }
        }
    }
}
