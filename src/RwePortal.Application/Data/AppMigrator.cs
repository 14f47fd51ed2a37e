using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using RwePortal.Warehouse.Schema;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Application.Data;

/// <summary>
/// The one way the app database's schema changes (owner role): a journaled runner over, in order, the data source
/// registry the warehouse owns (EF Core maps and references it, so it comes first), EF Core's migrations, then the
/// reviewed SQL of db/app and db/gov. Each step is recorded in <c>app.schema_journal</c> with a fingerprint of what it
/// ran; a step whose fingerprint is unchanged is skipped. The SQL steps' fingerprints include the newest EF migration,
/// so a migration that adds a tenant-owned table re-runs rls.sql and the table gets its policies.
/// Nothing else runs DDL: ordinary reads never create or alter anything.
/// </summary>
public static class AppMigrator
{
    private const string Journal = """
        CREATE TABLE IF NOT EXISTS app.schema_journal (
            step text PRIMARY KEY,
            fingerprint text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now(),
            applied_by text NOT NULL DEFAULT current_user
        );
        REVOKE ALL ON app.schema_journal FROM PUBLIC;
        """;

    /// <summary>
    /// The reviewed SQL applied after the EF migrations, in this order; each script is idempotent. Scripts that add
    /// rules to EF's tables (protocols.sql) come before grants.sql and rls.sql, which then cover those tables too.
    /// </summary>
    private static readonly string[] AppScripts = ["protocols.sql", "analyses.sql", "grants.sql", "audit.sql", "rls.sql"];

    /// <summary>Brings the database up to date; returns the steps that ran (the others were current).</summary>
    public static async Task<IReadOnlyList<string>> MigrateAsync(string ownerConnectionString, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(ownerConnectionString);
        await connection.OpenAsync(cancellationToken);

        // One runner at a time (two `rwe migrate` or a migrate beside a test host): a session lock for the whole run.
        await connection.ExecuteAsync(new CommandDefinition(
            "SELECT pg_advisory_lock(hashtext('rweportal.schema_runner'))", cancellationToken: cancellationToken));
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "CREATE SCHEMA IF NOT EXISTS app;\n" + Journal, cancellationToken: cancellationToken));
            var journal = (await connection.QueryAsync<(string Step, string Fingerprint)>(new CommandDefinition(
                    "SELECT step, fingerprint FROM app.schema_journal", cancellationToken: cancellationToken)))
                .ToDictionary(row => row.Step, row => row.Fingerprint, StringComparer.Ordinal);
            var ran = new List<string>();

            async Task StepAsync(string step, string fingerprint, Func<Task> apply)
            {
                if (journal.TryGetValue(step, out var applied) && applied == fingerprint)
                {
                    return;
                }

                await apply();
                await connection.ExecuteAsync(new CommandDefinition(
                    """
                    INSERT INTO app.schema_journal (step, fingerprint) VALUES (@step, @fingerprint)
                    ON CONFLICT (step) DO UPDATE SET fingerprint = excluded.fingerprint, applied_at = now(), applied_by = current_user
                    """,
                    new { step, fingerprint },
                    cancellationToken: cancellationToken));
                ran.Add(step);
            }

            await StepAsync(
                SqlResources.DataSourcesDdl,
                Fingerprint(SqlResources.Read(SqlResources.DataSourcesDdl)),
                () => DataSourceRegistry.EnsureAsync(connection, cancellationToken));

            var options = new DbContextOptionsBuilder<AppDbContext>();
            AppDatabase.Configure(options, ownerConnectionString);
            string newestMigration;
            await using (var context = new AppDbContext(options.Options))
            {
                newestMigration = context.Database.GetMigrations().LastOrDefault() ?? "";
                await StepAsync("ef-migrations", newestMigration, () => context.Database.MigrateAsync(cancellationToken));
            }

            // A script's fingerprint covers the scripts before it too: one that adds a tenant-owned table (analyses.sql)
            // re-runs grants.sql and rls.sql after it on a database migrated before.
            var before = "";
            foreach (var script in AppScripts)
            {
                var sql = ReadScript($"db.app.{script}");
                before += sql + "\n";
                await StepAsync($"db/app/{script}", Fingerprint(before + newestMigration), async () =>
                {
                    await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
                    await command.ExecuteNonQueryAsync(cancellationToken);
                });
            }

            var registry = ReadScript("db.gov.consent_registry.sql") + SqlResources.Read(SqlResources.ConsentDdl);
            await StepAsync(
                "db/gov/consent_registry.sql",
                Fingerprint(registry + "\n" + newestMigration),
                () => Consent.ConsentRegistrySchema.EnsureAsync(connection, cancellationToken));
            return ran;
        }
        finally
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "SELECT pg_advisory_unlock(hashtext('rweportal.schema_runner'))", cancellationToken: CancellationToken.None));
        }
    }

    private static string Fingerprint(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static string ReadScript(string resource)
    {
        using var stream = typeof(AppMigrator).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"{resource} is not embedded in the application assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
