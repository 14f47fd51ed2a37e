namespace RwePortal.Warehouse.Loading;

/// <summary>
/// What changed between CDM 5.3 and 5.4 for a loader (docs/decisions/0204-loading-cdm-53-exports.md): renamed
/// columns are loaded into their 5.4 names, columns new in 5.4 are NULL when a file lacks them, and the two
/// columns that are new and required in 5.4 get a value.
/// </summary>
internal static class Cdm53Compatibility
{
    private static readonly Dictionary<string, Dictionary<string, string>> Renames = new(StringComparer.Ordinal)
    {
        ["visit_occurrence"] = new(StringComparer.Ordinal)
        {
            ["admitting_source_concept_id"] = "admitted_from_concept_id",
            ["admitting_source_value"] = "admitted_from_source_value",
            ["discharge_to_concept_id"] = "discharged_to_concept_id",
            ["discharge_to_source_value"] = "discharged_to_source_value",
        },
        ["visit_detail"] = new(StringComparer.Ordinal)
        {
            ["admitting_source_concept_id"] = "admitted_from_concept_id",
            ["admitting_source_value"] = "admitted_from_source_value",
            ["discharge_to_concept_id"] = "discharged_to_concept_id",
            ["discharge_to_source_value"] = "discharged_to_source_value",
            ["visit_detail_parent_id"] = "parent_visit_detail_id",
        },
        ["cost"] = new(StringComparer.Ordinal)
        {
            // The 5.3 DDL misspelled this column; 5.4 fixed the name.
            ["reveue_code_source_value"] = "revenue_code_source_value",
        },
    };

    /// <summary>The 5.4 name of a 5.3 column of that table, or null when the name did not change.</summary>
    public static string? RenamedTo(string table, string column) =>
        Renames.TryGetValue(table, out var columns) && columns.TryGetValue(column, out var renamed) ? renamed : null;

    /// <summary>
    /// How to fill a column that is required in 5.4 but absent from 5.3 files, or null when there is no rule
    /// (then a missing required column is an error).
    /// </summary>
    public static FillRule? FillFor(string table, string column) => (table, column) switch
    {
        // 0 is OMOP's "No matching concept": the export does not say which CDM version concept it is.
        ("cdm_source", "cdm_version_concept_id") => FillRule.Zero,
        // 5.3 metadata rows had no id: number them in file order.
        ("metadata", "metadata_id") => FillRule.RowNumber,
        _ => null,
    };

    internal enum FillRule
    {
        Zero,
        RowNumber,
    }
}
