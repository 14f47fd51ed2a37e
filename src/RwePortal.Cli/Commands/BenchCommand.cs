using System.CommandLine;

namespace RwePortal.Cli.Commands;

/// <summary>
/// <c>rwe bench</c>: a parent for the benchmarks of every area. Each area passes its subcommands
/// (analytics: <c>simulate</c>, <c>ps</c>; the warehouse: <c>load</c>) so they share one <c>bench</c> verb;
/// <c>analysis</c> (the run pipeline end to end) is always added.
/// </summary>
internal static class BenchCommand
{
    public static Command Create(params IEnumerable<Command> subcommands)
    {
        var bench = new Command("bench", "Benchmarks and simulation studies.");
        foreach (var sub in subcommands)
        {
            bench.Subcommands.Add(sub);
        }

        bench.Subcommands.Add(AnalysisBenchCommand.Create());

        return bench;
    }
}
