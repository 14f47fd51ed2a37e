using System.CommandLine;
using RwePortal.Cli.Infrastructure;

var root = CliRoot.Create();

// `rwe --needs-database ARGS...` answers yes or no for the rwe script, which starts PostgreSQL only when needed.
if (args.Length > 0 && args[0] == DatabaseRequirement.QueryOption)
{
    Console.Out.WriteLine(DatabaseRequirement.Needs(root, args[1..]) ? "yes" : "no");
    return 0;
}

try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (DatabaseErrors.IsNotMigrated(e))
{
    await Console.Error.WriteLineAsync(DatabaseErrors.NotMigratedMessage);
    return 3;
}
