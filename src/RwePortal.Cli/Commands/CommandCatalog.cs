using System.CommandLine;

namespace RwePortal.Cli.Commands;

/// <summary>The one place where the CLI's commands are listed, one line per area.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return DatabaseCommands.Create();
        foreach (var command in WarehouseCommands.Create()) { yield return command; }
        foreach (var command in AnalyticsCommands.Create()) { yield return command; }
    }
}
