using System.CommandLine;
using RwePortal.Cli.Commands;

// Each area contributes its commands; `rwe --help` lists them all.
var root = new RootCommand("rwe: the RwePortal command line (database setup, warehouse loads, analyses, benchmarks).");
foreach (var command in CommandCatalog.All())
{
    root.Subcommands.Add(command);
}

return await root.Parse(args).InvokeAsync();
