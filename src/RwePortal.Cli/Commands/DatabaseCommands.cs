using System.CommandLine;
using RwePortal.Application.Data;
using RwePortal.Cli.Infrastructure;

namespace RwePortal.Cli.Commands;

/// <summary>`rwe migrate` and `rwe seed-demo`: the app database's schema and the demo tenants and users.</summary>
internal static class DatabaseCommands
{
    public static IEnumerable<Command> Create()
    {
        var migrate = new Command("migrate", "Apply the app database's schema changes (owner role): EF Core migrations and the reviewed SQL of db/, journaled in app.schema_journal.");
        migrate.SetAction(async (parseResult, cancellationToken) =>
        {
            if (!ConnectionSettings.TryGetOwner(out var owner))
            {
                await Console.Error.WriteLineAsync(ConnectionSettings.OwnerMissingMessage);
                return 2;
            }

            var applied = await AppMigrator.MigrateAsync(owner, cancellationToken);
            foreach (var step in applied)
            {
                await Console.Out.WriteLineAsync($"applied {step}");
            }

            await Console.Out.WriteLineAsync("app database is up to date");
            return 0;
        });
        yield return migrate;

        var seed = new Command("seed-demo", "Create the demo tenants and one user per role in each, plus a platform Admin (idempotent).");
        seed.SetAction(async (parseResult, cancellationToken) =>
        {
            if (!ConnectionSettings.TryGetOwner(out var owner))
            {
                await Console.Error.WriteLineAsync(ConnectionSettings.OwnerMissingMessage);
                return 2;
            }

            await DemoSeeder.RunAsync(owner, cancellationToken);
            await Console.Out.WriteLineAsync($"demo tenants and users are in place (password {DemoSeeder.Password})");
            return 0;
        });
        yield return seed;
    }
}
