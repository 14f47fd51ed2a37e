using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using Npgsql;
using RwePortal.Cli.Infrastructure;
using RwePortal.Warehouse.Loading;
using RwePortal.Warehouse.Quality;
using RwePortal.Warehouse.Schema;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Cli.Commands;

/// <summary>
/// Warehouse commands: <c>cdm-ddl</c>, <c>source add|set-custodian|list</c>, <c>load-omop</c> and <c>dq</c>.
/// Expected failures (bad input, unknown source, no database) print one line to stderr and exit 1.
/// </summary>
internal static class WarehouseCommands
{
    public static IEnumerable<Command> Create()
    {
        yield return CdmDdl();
        yield return Source();
        yield return LoadOmop();
        yield return DataQuality();
    }

    private static Command CdmDdl()
    {
        var command = new Command(
            "cdm-ddl",
            "Print the OMOP CDM 5.4 DDL generated from the specification (db/omop/cdm54.sql; with --primary-keys, db/omop/primary_keys.sql).");
        var primaryKeys = new Option<bool>("--primary-keys") { Description = "Print the primary keys instead of the tables." };
        command.Options.Add(primaryKeys);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var specification = CdmSpecification.Load();
            await Console.Out.WriteAsync(parseResult.GetValue(primaryKeys)
                ? CdmDdlGenerator.GeneratePrimaryKeys(specification)
                : CdmDdlGenerator.Generate(specification));
            return 0;
        });
        return command;
    }

    private static Command Source()
    {
        var source = new Command("source", "Manage OMOP data sources (one cdm_<name> schema each).");

        var add = new Command("add", "Register a data source and create its schema cdm_<NAME> with the CDM 5.4 and extension tables.");
        var name = new Argument<string>("NAME") { Description = "Lowercase letters, digits and _ (the schema is cdm_NAME)." };
        var description = new Option<string>("--description") { Description = "What the source holds.", DefaultValueFactory = _ => string.Empty };
        var custodian = new Option<string?>("--custodian")
        {
            Description = "Slug of the tenant that holds the source's consent (records, imports and edits it). Without it, only the operator records consent until one is set.",
        };
        add.Arguments.Add(name);
        add.Options.Add(description);
        add.Options.Add(custodian);
        add.SetAction((parseResult, cancellationToken) => RunAsync(async dataSource =>
        {
            var custodianId = await TenantIdAsync(dataSource, parseResult.GetValue(custodian), cancellationToken);
            var registry = new DataSourceRegistry(dataSource);
            var added = await registry.AddAsync(
                parseResult.GetValue(name)!, parseResult.GetValue(description) ?? string.Empty, custodianId, cancellationToken);
            var held = custodianId is null ? "no custodian yet" : $"custodian {parseResult.GetValue(custodian)}";
            await Console.Out.WriteLineAsync($"added data source {added.Name}: schema {added.SchemaName}, CDM {added.CdmVersion}, {held}");
            return 0;
        }));

        var setCustodian = new Command(
            "set-custodian",
            "Name (or change) the tenant that holds a data source's consent. Changing it moves who may see and edit the consent history.");
        var setName = new Argument<string>("NAME") { Description = "The data source." };
        var tenant = new Argument<string>("TENANT") { Description = "Slug of the custodian tenant." };
        setCustodian.Arguments.Add(setName);
        setCustodian.Arguments.Add(tenant);
        setCustodian.SetAction((parseResult, cancellationToken) => RunAsync(async dataSource =>
        {
            var custodianId = await TenantIdAsync(dataSource, parseResult.GetValue(tenant), cancellationToken);
            await new DataSourceRegistry(dataSource).SetCustodianAsync(parseResult.GetValue(setName)!, custodianId, cancellationToken);
            await Console.Out.WriteLineAsync($"data source {parseResult.GetValue(setName)}: custodian {parseResult.GetValue(tenant)}");
            return 0;
        }));

        var list = new Command("list", "List the registered data sources.");
        list.SetAction((parseResult, cancellationToken) => RunAsync(async dataSource =>
        {
            var sources = await new DataSourceRegistry(dataSource).ListAsync(cancellationToken);
            if (sources.Count == 0)
            {
                await Console.Out.WriteLineAsync("no data sources: add one with `rwe source add NAME`");
                return 0;
            }

            var slugs = await TenantSlugsAsync(dataSource, cancellationToken);
            var rows = sources.Select(s => new[]
            {
                s.Name,
                s.SchemaName,
                s.CdmVersion,
                s.LoadedAt?.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) ?? "never",
                s.CustodianTenantId is { } id && slugs.TryGetValue(id, out var slug) ? slug : "-",
                s.Persons?.ToString("N0", CultureInfo.InvariantCulture) ?? "-",
            });
            await Console.Out.WriteAsync(TextTable.Render(["name", "schema", "CDM", "loaded at", "custodian", "persons"], rows, rightAligned: [5]));
            return 0;
        }));

        source.Subcommands.Add(add);
        source.Subcommands.Add(setCustodian);
        source.Subcommands.Add(list);
        return source;
    }

    /// <summary>The id of the tenant with that slug (null for no slug).</summary>
    /// <exception cref="WarehouseException">No tenant has that slug.</exception>
    private static async Task<Guid?> TenantIdAsync(NpgsqlDataSource dataSource, string? slug, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(slug))
        {
            return null;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var id = await connection.ExecuteScalarAsync<Guid?>(new CommandDefinition(
            "SELECT id FROM app.tenants WHERE slug = @slug", new { slug }, cancellationToken: cancellationToken));
        return id ?? throw new WarehouseException($"no tenant has the slug '{slug}' (tenants are created in the portal or by `rwe seed-demo`)");
    }

    private static async Task<Dictionary<Guid, string>> TenantSlugsAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var exists = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT to_regclass('app.tenants') IS NOT NULL", cancellationToken: cancellationToken));
        if (!exists)
        {
            return [];
        }

        var rows = await connection.QueryAsync<(Guid Id, string Slug)>(new CommandDefinition(
            "SELECT id, slug FROM app.tenants", cancellationToken: cancellationToken));
        return rows.ToDictionary(r => r.Id, r => r.Slug);
    }

    private static Command LoadOmop()
    {
        var command = new Command(
            "load-omop",
            "Load an OMOP CSV export (CDM 5.3 or 5.4, one file per table) into a data source, in one transaction; then build indexes and ANALYZE.");
        var source = new Option<string>("--source") { Description = "The data source (see `rwe source list`).", Required = true };
        var directory = new Option<DirectoryInfo>("--dir") { Description = "The folder with the CSV files (person.csv, PERSON.csv, ...).", Required = true };
        var replace = new Option<bool>("--replace") { Description = "Empty the tables the folder has files for first (in the same transaction)." };
        command.Options.Add(source);
        command.Options.Add(directory);
        command.Options.Add(replace);
        command.SetAction((parseResult, cancellationToken) => RunAsync(async dataSource =>
        {
            var loader = new OmopCsvLoader(dataSource);
            var result = await loader.LoadAsync(
                parseResult.GetValue(source)!,
                parseResult.GetValue(directory)!.FullName,
                new OmopLoadOptions(parseResult.GetValue(replace)),
                cancellationToken);
            var rows = result.Tables.Select(t => new[]
            {
                t.Table,
                t.File,
                t.Rows.ToString("N0", CultureInfo.InvariantCulture),
                t.RenamedColumns.Count == 0 ? string.Empty : string.Join(", ", t.RenamedColumns.Select(r => $"{r.Key}->{r.Value}")),
            });
            await Console.Out.WriteAsync(TextTable.Render(["table", "file", "rows", "CDM 5.3 columns mapped"], rows, rightAligned: [2]));
            foreach (var skipped in result.SkippedFiles)
            {
                await Console.Error.WriteLineAsync($"skipped {skipped}: no table of {result.SchemaName} has that name");
            }

            foreach (var violation in result.PrimaryKeyViolations)
            {
                await Console.Error.WriteLineAsync(
                    $"warning: {result.SchemaName}.{violation.Table}: primary key ({violation.Columns}) not created, the data has duplicate keys; indexed without uniqueness instead (see `rwe dq`)");
            }

            await Console.Out.WriteLineAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"loaded {result.TotalRows:N0} rows into {result.Tables.Count} tables of {result.SchemaName}: copy {result.CopyTime.TotalSeconds:F1} s, indexes {result.IndexTime.TotalSeconds:F1} s, analyze {result.AnalyzeTime.TotalSeconds:F1} s"));
            return 0;
        }));
        return command;
    }

    private static Command DataQuality()
    {
        var command = new Command(
            "dq",
            "Data-quality report of a data source (conformance, completeness, plausibility, cross-modality consistency); exits 1 when a check fails.");
        var source = new Option<string>("--source") { Description = "The data source (see `rwe source list`).", Required = true };
        var json = new Option<FileInfo>("--json") { Description = "Also write the full report as JSON to this file." };
        var all = new Option<bool>("--all") { Description = "List every check, not only those that fail or warn." };
        command.Options.Add(source);
        command.Options.Add(json);
        command.Options.Add(all);
        command.SetAction((parseResult, cancellationToken) => RunAsync(async dataSource =>
        {
            var report = await new DataQualityRunner(dataSource).RunAsync(parseResult.GetValue(source)!, cancellationToken);
            var shown = report.Results
                .Where(r => parseResult.GetValue(all) || r.Status is DqStatus.Fail or DqStatus.Warn)
                .OrderBy(r => r.Status switch { DqStatus.Fail => 0, DqStatus.Warn => 1, DqStatus.Pass => 2, _ => 3 })
                .ThenBy(r => r.Category)
                .ThenBy(r => r.Id, StringComparer.Ordinal);
            var rows = shown.Select(r => new[]
            {
                StatusText(r.Status),
                r.Category.ToString(),
                r.Description,
                r.Violating.ToString("N0", CultureInfo.InvariantCulture),
                r.Total.ToString("N0", CultureInfo.InvariantCulture),
                r.Status == DqStatus.NotApplicable ? "-" : r.ViolatingPercent.ToString("0.###", CultureInfo.InvariantCulture) + "%",
                ThresholdText(r),
            });
            await Console.Out.WriteLineAsync($"data quality of {report.Source} ({report.SchemaName}){(report.VocabularyLoaded ? string.Empty : ", no vocabulary loaded")}");
            await Console.Out.WriteAsync(TextTable.Render(["status", "category", "check", "violating", "rows", "share", "threshold"], rows, rightAligned: [3, 4, 5]));
            await Console.Out.WriteLineAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"{report.Results.Count} checks in {report.Duration.TotalSeconds:F1} s: {report.Count(DqStatus.Pass)} pass, {report.Count(DqStatus.Warn)} warn, {report.Count(DqStatus.Fail)} fail, {report.Count(DqStatus.NotApplicable)} not applicable"));
            if (parseResult.GetValue(json) is { } file)
            {
                await using var stream = file.Create();
                await JsonSerializer.SerializeAsync(stream, report, JsonOptions, cancellationToken);
                await Console.Out.WriteLineAsync($"report written to {file.FullName}");
            }

            return report.Passed ? 0 : 1;
        }));
        return command;
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    private static string StatusText(DqStatus status) => status switch
    {
        DqStatus.Pass => "PASS",
        DqStatus.Warn => "WARN",
        DqStatus.Fail => "FAIL",
        _ => "N/A",
    };

    private static string ThresholdText(DqResult result) => result.WarnAbovePercent is { } warn
        ? string.Create(CultureInfo.InvariantCulture, $"fail >{result.FailAbovePercent}%, warn >{warn}%")
        : string.Create(CultureInfo.InvariantCulture, $"fail >{result.FailAbovePercent}%");

    /// <summary>
    /// Runs a command body with an owner-role data source, turning expected failures into one line on stderr
    /// and exit code 1.
    /// </summary>
    internal static async Task<int> RunAsync(Func<NpgsqlDataSource, Task<int>> body)
    {
        if (!ConnectionSettings.TryGetOwner(out var connectionString))
        {
            await Console.Error.WriteLineAsync($"rwe: {ConnectionSettings.OwnerMissingMessage}");
            return 1;
        }

        try
        {
            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            return await body(dataSource);
        }
        catch (OmopLoadException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            await Console.Error.WriteLineAsync("rwe: load aborted, nothing was loaded");
            return 1;
        }
        catch (WarehouseException e)
        {
            await Console.Error.WriteLineAsync($"rwe: {e.Message}");
            return 1;
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"rwe: {e.Message}");
            return 1;
        }
        catch (NpgsqlException e) when (!DatabaseErrors.IsNotMigrated(e))
        {
            await Console.Error.WriteLineAsync($"rwe: database error: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("rwe: cancelled");
            return 1;
        }
    }
}
