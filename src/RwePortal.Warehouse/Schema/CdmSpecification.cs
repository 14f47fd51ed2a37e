using System.Globalization;
using CsvHelper;

namespace RwePortal.Warehouse.Schema;

/// <summary>One field of the OMOP CDM 5.4 specification, with the PostgreSQL type this project maps it to.</summary>
public sealed record CdmField(
    string Table,
    string Name,
    string SpecType,
    string PostgresType,
    bool IsRequired,
    bool IsPrimaryKey,
    string? ForeignKeyTable,
    string? ForeignKeyField);

/// <summary>One table of the OMOP CDM 5.4 specification.</summary>
public sealed record CdmTable(string Name, string SpecSchema, IReadOnlyList<CdmField> Fields)
{
    /// <summary>True for clinical/derived tables that hold one person's data (distributable on person_id).</summary>
    public bool IsPersonLevel => Fields.Any(f => f.Name == "person_id");

    /// <summary>True for the vocabulary tables (loaded as reference tables on Citus).</summary>
    public bool IsVocabulary => SpecSchema == "VOCAB";
}

/// <summary>
/// The OMOP CDM 5.4 specification read from the field-level and table-level CSVs that OHDSI publishes
/// (shipped in db/omop/spec/ and embedded in this assembly). The DDL generator and the data-quality checks
/// are driven by it, so the DDL is never typed by hand.
/// </summary>
public sealed class CdmSpecification
{
    /// <summary>The resource names of the specification CSVs inside this assembly.</summary>
    public const string FieldLevelResource = "db/omop/spec/OMOP_CDMv5.4_Field_Level.csv";

    public const string TableLevelResource = "db/omop/spec/OMOP_CDMv5.4_Table_Level.csv";

    private static readonly Lazy<CdmSpecification> Embedded = new(() =>
        Parse(SqlResources.Read(FieldLevelResource), SqlResources.Read(TableLevelResource)));

    private CdmSpecification(IReadOnlyList<CdmTable> tables, IReadOnlyDictionary<string, double?> personCompletenessThresholds)
    {
        Tables = tables;
        PersonCompletenessThresholds = personCompletenessThresholds;
    }

    /// <summary>The tables in the order of the specification.</summary>
    public IReadOnlyList<CdmTable> Tables { get; }

    /// <summary>Tables for which the specification asks for a person-completeness measure, with its threshold (percent).</summary>
    public IReadOnlyDictionary<string, double?> PersonCompletenessThresholds { get; }

    /// <summary>The specification shipped with this assembly.</summary>
    public static CdmSpecification Load() => Embedded.Value;

    public CdmTable Table(string name) =>
        Tables.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new KeyNotFoundException($"table {name} is not part of the CDM 5.4 specification");

    /// <summary>Parses the two specification CSVs.</summary>
    public static CdmSpecification Parse(string fieldLevelCsv, string tableLevelCsv)
    {
        var tableSchemas = new Dictionary<string, string>(StringComparer.Ordinal);
        var completeness = new Dictionary<string, double?>(StringComparer.Ordinal);
        foreach (var row in ReadRows(tableLevelCsv))
        {
            var table = row["cdmTableName"].Trim().ToLowerInvariant();
            tableSchemas[table] = row["schema"].Trim();
            if (IsYes(row["measurePersonCompleteness"]))
            {
                completeness[table] = double.TryParse(row["measurePersonCompletenessThreshold"], NumberStyles.Float, CultureInfo.InvariantCulture, out var threshold)
                    ? threshold
                    : null;
            }
        }

        var fieldsByTable = new Dictionary<string, List<CdmField>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var row in ReadRows(fieldLevelCsv))
        {
            var table = row["cdmTableName"].Trim().ToLowerInvariant();
            var name = row["cdmFieldName"].Trim().Trim('"').ToLowerInvariant();
            var specType = row["cdmDatatype"].Trim();
            var fkTable = NullIfNa(row["fkTableName"])?.ToLowerInvariant();
            var fkField = NullIfNa(row["fkFieldName"])?.ToLowerInvariant();
            var field = new CdmField(
                table,
                name,
                specType,
                PostgresTypeOf(table, name, specType, fkTable),
                IsYes(row["isRequired"]),
                IsYes(row["isPrimaryKey"]),
                fkTable,
                fkField);
            if (!fieldsByTable.TryGetValue(table, out var list))
            {
                list = [];
                fieldsByTable[table] = list;
                order.Add(table);
            }

            list.Add(field);
        }

        var tables = order
            .Select(name => new CdmTable(name, tableSchemas.GetValueOrDefault(name, "CDM"), fieldsByTable[name]))
            .ToList();
        return new CdmSpecification(tables, completeness);
    }

    /// <summary>
    /// Maps a specification type to PostgreSQL (see docs/decisions/0201-omop-column-types.md):
    /// integer stays integer except person identifiers, which are bigint so that every person-level table,
    /// CDM and extension alike, shares one distribution-column type; float is numeric (exact, as OHDSI's own
    /// PostgreSQL DDL); datetime is timestamp without time zone; varchar(MAX) is text.
    /// </summary>
    internal static string PostgresTypeOf(string table, string field, string specType, string? fkTable)
    {
        var type = specType.Trim().ToLowerInvariant();
        if (type == "integer")
        {
            var isPersonId = field == "person_id" || fkTable == "person" || (table == "cohort" && field == "subject_id");
            return isPersonId ? "bigint" : "integer";
        }

        if (type == "bigint")
        {
            return "bigint";
        }

        if (type == "float")
        {
            return "numeric";
        }

        if (type == "datetime")
        {
            return "timestamp";
        }

        if (type == "date")
        {
            return "date";
        }

        if (type == "varchar(max)")
        {
            return "text";
        }

        if (type.StartsWith("varchar(", StringComparison.Ordinal) && type.EndsWith(')'))
        {
            var length = type["varchar(".Length..^1];
            if (int.TryParse(length, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0)
            {
                return $"varchar({n})";
            }
        }

        throw new FormatException($"{table}.{field}: unsupported CDM datatype '{specType}'");
    }

    private static bool IsYes(string value) => string.Equals(value.Trim(), "Yes", StringComparison.OrdinalIgnoreCase);

    private static string? NullIfNa(string value) =>
        string.IsNullOrWhiteSpace(value) || string.Equals(value.Trim(), "NA", StringComparison.OrdinalIgnoreCase) ? null : value.Trim();

    private static List<Dictionary<string, string>> ReadRows(string csvText)
    {
        var options = CsvReaderOptions.Default with { Separator = ',', HasHeader = true };
        using var csv = CsvReader.FromText(csvText, options);
        var rows = new List<Dictionary<string, string>>();
        var header = csv.Headers;
        while (csv.Read())
        {
            var row = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < header.Count; i++)
            {
                row[header[i].Trim()] = i < csv.FieldCount ? csv.GetString(i) ?? string.Empty : string.Empty;
            }

            rows.Add(row);
        }

        return rows;
    }
}
