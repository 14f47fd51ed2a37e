namespace RwePortal.Application.Data;

/// <summary>
/// A row of app.data_sources, read-only here: the warehouse owns the table (db/app/data_sources.sql) and writes it
/// when a source is added or loaded. EF Core maps it to join grants against it and never migrates it.
/// </summary>
public sealed class RegisteredDataSource
{
    public Guid Id { get; private set; }

    public string Name { get; private set; } = "";

    public string Description { get; private set; } = "";

    public string CdmVersion { get; private set; } = "";

    public string SchemaName { get; private set; } = "";

    public DateTimeOffset CreatedAt { get; private set; }

    public DateTimeOffset? LoadedAt { get; private set; }

    /// <summary>The jsonb object table → rows of the last load.</summary>
    public string RowCounts { get; private set; } = "{}";

    /// <summary>The tenant that holds the source's consent (records, imports, edits it); null until the platform Admin names one.</summary>
    public Guid? CustodianTenantId { get; private set; }
}
