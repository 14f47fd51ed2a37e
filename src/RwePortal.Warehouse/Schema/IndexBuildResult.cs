namespace RwePortal.Warehouse.Schema;

/// <summary>A CDM primary key that could not be created because the loaded data has duplicate keys.</summary>
public sealed record PrimaryKeyViolation(string Table, string Columns, string Reason);

/// <summary>What <see cref="CdmSchema.CreateIndexesAsync"/> could not build (empty when every primary key holds).</summary>
public sealed record IndexBuildResult(IReadOnlyList<PrimaryKeyViolation> PrimaryKeyViolations);
