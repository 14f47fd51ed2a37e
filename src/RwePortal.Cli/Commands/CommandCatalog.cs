using System.CommandLine;

namespace RwePortal.Cli.Commands;

/// <summary>The one place where the CLI's commands are listed, one line per area.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        foreach (var command in DatabaseCommands.Create()) { yield return command; }
        foreach (var command in WarehouseCommands.Create()) { yield return command; }
        foreach (var command in AnalyticsCommands.Create()) { yield return command; }
        foreach (var command in GovernanceCommands.Create()) { yield return command; }
        foreach (var command in SyntheticCommands.Create()) { yield return command; }
        foreach (var command in IngestCommands.Create()) { yield return command; }
        foreach (var command in SubgroupCommands.Create()) { yield return command; }
        foreach (var command in ProtocolCommands.Create()) { yield return command; }
        foreach (var command in WorkerCommand.Create()) { yield return command; }
        foreach (var command in RunProtocolCommand.Create()) { yield return command; }
    }
}
