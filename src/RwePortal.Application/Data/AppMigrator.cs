using Microsoft.EntityFrameworkCore;
using Npgsql;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Application.Data;

/// <summary>
/// Brings the app database up to date (owner role): the data source registry the warehouse owns (EF Core maps it
/// and references it, so it must exist first), then EF Core migrations, then the reviewed SQL in db/app.
/// </summary>
public static class AppMigrator
{
    /// <summary>SQL from db/app applied after the EF migrations, in this order; each script is idempotent.</summary>
    private static readonly string[] Scripts = ["grants.sql", "audit.sql", "rls.sql"];

    public static async Task MigrateAsync(string ownerConnectionString, CancellationToken cancellationToken = default)
    {
        await using (var registry = new NpgsqlConnection(ownerConnectionString))
        {
            await registry.OpenAsync(cancellationToken);
            await DataSourceRegistry.EnsureAsync(registry, cancellationToken);
        }

        var options = new DbContextOptionsBuilder<AppDbContext>();
        AppDatabase.Configure(options, ownerConnectionString);
        await using (var context = new AppDbContext(options.Options))
        {
            await context.Database.MigrateAsync(cancellationToken);
        }

        await using var connection = new NpgsqlConnection(ownerConnectionString);
        await connection.OpenAsync(cancellationToken);
        foreach (var script in Scripts)
        {
            await using var command = new NpgsqlCommand(ReadScript(script), connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await Consent.ConsentRegistrySchema.EnsureAsync(connection, cancellationToken);
    }

    private static string ReadScript(string name)
    {
        using var stream = typeof(AppMigrator).Assembly.GetManifestResourceStream($"db.app.{name}")
            ?? throw new InvalidOperationException($"db/app/{name} is not embedded in the application assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
