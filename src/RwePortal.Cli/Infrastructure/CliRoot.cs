using System.CommandLine;
using RwePortal.Cli.Commands;

namespace RwePortal.Cli.Infrastructure;

/// <summary>The <c>rwe</c> root command with every area's commands.</summary>
internal static class CliRoot
{
    public static RootCommand Create()
    {
        // Each area contributes its commands; `rwe --help` lists them all.
        var root = new RootCommand("rwe: the RwePortal command line (database setup, warehouse loads, analyses, benchmarks).");
        foreach (var command in CommandCatalog.All())
        {
            root.Subcommands.Add(command);
        }

        return root;
    }
}
