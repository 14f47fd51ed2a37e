using Npgsql;

namespace RwePortal.Warehouse.Schema;

/// <summary>The <c>gov</c> schema shared by all data sources: the consent registry (db/extensions/consent.sql).</summary>
public static class GovernanceSchema
{
    /// <summary>Creates schema gov and gov.consent with its index if they are missing.</summary>
    public static async Task EnsureAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        // The advisory lock serialises concurrent first runs (CREATE ... IF NOT EXISTS can race in the catalog).
        var sql = "SELECT pg_advisory_xact_lock(hashtext('rweportal.gov.consent'));\n" + SqlResources.Read(SqlResources.ConsentDdl);
        await CdmSchema.ExecuteAsync(connection, sql, cancellationToken);
    }
}
