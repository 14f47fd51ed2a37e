using System.Reflection;

namespace RwePortal.Warehouse.Schema;

/// <summary>
/// The SQL and specification files of db/ that are embedded in this assembly (linked in the csproj with
/// their repository path as resource name), so the CLI and the portal work from any folder.
/// </summary>
public static class SqlResources
{
    public const string CdmDdl = "db/omop/cdm54.sql";
    public const string CdmPrimaryKeys = "db/omop/primary_keys.sql";
    public const string CdmIndexes = "db/omop/indexes.sql";
    public const string GenomicsDdl = "db/extensions/genomics.sql";
    public const string WearablesDdl = "db/extensions/wearables.sql";
    public const string ExtensionIndexes = "db/extensions/indexes.sql";
    public const string ConsentDdl = "db/extensions/consent.sql";
    public const string AggregatesDdl = "db/extensions/aggregates.sql";
    public const string AggregatesRebuild = "db/extensions/aggregates_rebuild.sql";
    public const string DataSourcesDdl = "db/app/data_sources.sql";

    /// <summary>The placeholder for the data source's schema in the per-source SQL files.</summary>
    public const string SchemaPlaceholder = "{{schema}}";

    public static string Read(string name)
    {
        var assembly = typeof(SqlResources).Assembly;
        using var stream = assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded resource {name} is missing from {assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Reads a per-source SQL file with the (validated) schema name put in place of the placeholder.</summary>
    public static string ReadForSchema(string name, string schemaName)
    {
        SchemaName.Validate(schemaName);
        return Read(name).Replace(SchemaPlaceholder, schemaName, StringComparison.Ordinal);
    }

    internal static Assembly Assembly => typeof(SqlResources).Assembly;
}
