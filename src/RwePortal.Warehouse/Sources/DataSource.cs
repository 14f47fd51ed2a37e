namespace RwePortal.Warehouse.Sources;

/// <summary>
/// A registered OMOP data source (a row of app.data_sources): its cdm_&lt;name&gt; schema, last load and custodian
/// (the tenant that holds its consent; null until the platform Admin names one).
/// </summary>
public sealed record DataSource(
    Guid Id,
    string Name,
    string Description,
    string CdmVersion,
    string SchemaName,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LoadedAt,
    IReadOnlyDictionary<string, long> RowCounts,
    Guid? CustodianTenantId = null)
{
    /// <summary>Rows in the person table at the last recorded load, or null before the first load.</summary>
    public long? Persons => RowCounts.TryGetValue("person", out var persons) ? persons : null;
}
