using System.CommandLine;
using RwePortal.Warehouse.Schema;

namespace RwePortal.Cli.Commands;

/// <summary>Warehouse commands: the CDM DDL, data sources, OMOP CSV loads and data-quality reports.</summary>
internal static class WarehouseCommands
{
    public static IEnumerable<Command> Create()
    {
        yield return CdmDdl();
    }

    private static Command CdmDdl()
    {
        var command = new Command("cdm-ddl", "Print the OMOP CDM 5.4 DDL generated from the specification (the content of db/omop/cdm54.sql).");
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            await Console.Out.WriteAsync(CdmDdlGenerator.Generate(CdmSpecification.Load()));
            return 0;
        });
        return command;
    }
}
