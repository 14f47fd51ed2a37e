using System.CommandLine;
using System.CommandLine.Parsing;

namespace RwePortal.Cli.Infrastructure;

/// <summary>
/// Which command lines need PostgreSQL. <c>./rwe</c> asks (<c>rwe --needs-database ARGS...</c> prints yes or no)
/// before it starts the private cluster, so file-only commands and help run on a machine without a database.
/// </summary>
internal static class DatabaseRequirement
{
    public const string QueryOption = "--needs-database";

    /// <summary>Commands (full paths below the root) that never open a database connection.</summary>
    public static readonly IReadOnlySet<string> DatabaseFreeCommands = new HashSet<string>(StringComparer.Ordinal)
    {
        "ps-analysis",
        "unpack",
        "cdm-ddl",
        "bench simulate",
        "bench ps",
        "protocol validate",
    };

    /// <summary>
    /// True when running <paramref name="args"/> would connect to the database: a command that is not
    /// database-free. Help, version and command lines that do not parse only print text.
    /// </summary>
    public static bool Needs(RootCommand root, IReadOnlyList<string> args)
    {
        var parse = root.Parse(args);
        var command = parse.CommandResult.Command;
        if (parse.Errors.Count > 0 || command is RootCommand || command.Action is null || parse.Action != command.Action)
        {
            return false;
        }

        return !DatabaseFreeCommands.Contains(PathOf(parse.CommandResult));
    }

    /// <summary>The command's path below the root, e.g. "bench ps".</summary>
    public static string PathOf(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? current = result; current is CommandResult { Command: not RootCommand } commandResult; current = current.Parent)
        {
            names.Insert(0, commandResult.Command.Name);
        }

        return string.Join(' ', names);
    }
}
