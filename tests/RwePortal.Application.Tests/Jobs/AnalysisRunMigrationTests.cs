using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;
using RwePortal.Application.Data;
using RwePortal.Testing;

namespace RwePortal.Application.Tests.Jobs;

/// <summary>
/// A database migrated before the run table existed: migrating adds the table and, because a script's fingerprint
/// covers the scripts before it, re-runs grants.sql and rls.sql after it, so the new table gets its privileges and
/// forced row-level security.
/// </summary>
public sealed class AnalysisRunMigrationTests : IAsyncLifetime
{
    private readonly TestDatabase _database = new();

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        await AppMigrator.MigrateAsync(_database.OwnerConnectionString);
    }

    public Task DisposeAsync() => _database.DisposeAsync();

    [Fact]
    public async Task Migrating_an_install_from_before_the_run_table_adds_it_with_forced_row_level_security_and_the_app_roles_limits()
    {
        await using (var owner = new NpgsqlConnection(_database.OwnerConnectionString))
        {
            await owner.OpenAsync();
            var newest = await owner.ExecuteScalarAsync<string>("SELECT fingerprint FROM app.schema_journal WHERE step = 'ef-migrations'");

            // The install as the previous runner left it: no run table, and each script journaled with the old
            // fingerprint (its own text and the newest migration), so nothing but the new script would run again.
            await owner.ExecuteAsync(
                """
                DROP TABLE app.analysis_runs;
                DELETE FROM app.schema_journal WHERE step = 'db/app/analyses.sql';
                """);
            foreach (var script in new[] { "protocols.sql", "grants.sql", "audit.sql", "rls.sql" })
            {
                var text = await File.ReadAllTextAsync(Path.Combine(AppScriptsFolder, script));
                var fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text + "\n" + newest)));
                await owner.ExecuteAsync(
                    "UPDATE app.schema_journal SET fingerprint = @fingerprint WHERE step = @step", new { fingerprint, step = "db/app/" + script });
            }
        }

        var ran = await AppMigrator.MigrateAsync(_database.OwnerConnectionString);

        Assert.Contains("db/app/analyses.sql", ran);
        Assert.Contains("db/app/grants.sql", ran);
        Assert.Contains("db/app/rls.sql", ran);
        await using var check = new NpgsqlConnection(_database.OwnerConnectionString);
        await check.OpenAsync();
        var (rls, forced) = await check.QuerySingleAsync<(bool, bool)>(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'app.analysis_runs'::regclass");
        Assert.True(rls && forced);
        Assert.True(await check.ExecuteScalarAsync<bool>("SELECT has_table_privilege('rwe_app', 'app.analysis_runs', 'INSERT, UPDATE, SELECT')"));
        Assert.False(await check.ExecuteScalarAsync<bool>("SELECT has_table_privilege('rwe_app', 'app.analysis_runs', 'DELETE')"));
        Assert.Empty(await AppMigrator.MigrateAsync(_database.OwnerConnectionString));
    }

    private static string AppScriptsFolder
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, "db", "app");
                if (File.Exists(Path.Combine(candidate, "analyses.sql")))
                {
                    return candidate;
                }
            }

            throw new DirectoryNotFoundException("db/app not found above " + AppContext.BaseDirectory);
        }
    }
}
