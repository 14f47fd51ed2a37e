namespace RwePortal.Warehouse.Loading;

/// <summary>
/// One file loaded into one table. <c>RenamedColumns</c> lists the CDM 5.3 column names of the file that were
/// loaded into their 5.4 columns (old → new).
/// </summary>
public sealed record TableLoad(string Table, string File, long Rows, IReadOnlyDictionary<string, string> RenamedColumns);

/// <summary>
/// What a load did and how long its phases took. <c>SkippedFiles</c> are the CSV files of the folder that match no
/// table of the schema (such as the CDM 5.3 tables that 5.4 dropped). <c>PrimaryKeyViolations</c> are the CDM primary
/// keys that the loaded data breaks (built as plain indexes instead; the data-quality report lists the duplicates).
/// </summary>
public sealed record OmopLoadResult(
    string SchemaName,
    IReadOnlyList<TableLoad> Tables,
    IReadOnlyList<string> SkippedFiles,
    IReadOnlyList<RwePortal.Warehouse.Schema.PrimaryKeyViolation> PrimaryKeyViolations,
    TimeSpan CopyTime,
    TimeSpan IndexTime,
    TimeSpan AnalyzeTime)
{
    public long TotalRows => Tables.Sum(t => t.Rows);
}

/// <summary>
/// Options of a load. <c>Replace</c> empties the tables the folder has files for (in the load's transaction)
/// instead of refusing to load into tables that already have rows.
/// </summary>
public sealed record OmopLoadOptions(bool Replace = false);
