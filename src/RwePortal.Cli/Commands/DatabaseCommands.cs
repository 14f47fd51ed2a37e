using System.CommandLine;

namespace RwePortal.Cli.Commands;

/// <summary>`rwe migrate`: applies the app database's migrations (the private cluster is run by the rwe script).</summary>
internal static class DatabaseCommands
{
    public static Command Create()
    {
        var command = new Command("migrate", "Apply the app database's migrations and the SQL in db/ (owner role).");
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await Console.Out.WriteLineAsync("migrations: nothing to apply yet");
            return 0;
        });
        return command;
    }
}
