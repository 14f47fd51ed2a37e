using Npgsql;
using RwePortal.Warehouse.Schema;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Application.Consent;

/// <summary>
/// Creates the consent registry (owner role, idempotent): gov.consent as the warehouse defines it
/// (<see cref="GovernanceSchema"/>), then db/gov/consent_registry.sql on top of it (purposes, the consent filter
/// function, the per-person status, the person look-up, grants). AppMigrator runs it on every migration.
/// </summary>
public static class ConsentRegistrySchema
{
    public static async Task EnsureAsync(NpgsqlConnection ownerConnection, CancellationToken cancellationToken)
    {
        if (ownerConnection.State != System.Data.ConnectionState.Open)
        {
            await ownerConnection.OpenAsync(cancellationToken);
        }

        await DataSourceRegistry.EnsureAsync(ownerConnection, cancellationToken);
        await GovernanceSchema.EnsureAsync(ownerConnection, cancellationToken);

        // One batch, one implicit transaction; the lock serialises concurrent first runs as GovernanceSchema does.
        var sql = "SELECT pg_advisory_xact_lock(hashtext('rweportal.gov.consent_registry'));\n" + ReadScript("consent_registry.sql");
        await using var command = new NpgsqlCommand(sql, ownerConnection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string ReadScript(string name)
    {
        using var stream = typeof(ConsentRegistrySchema).Assembly.GetManifestResourceStream($"db.gov.{name}")
            ?? throw new InvalidOperationException($"db/gov/{name} is not embedded in the application assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
