using System.CommandLine;
using System.Globalization;
using Npgsql;
using RwePortal.Cli.Infrastructure;
using RwePortal.Warehouse.Schema;
using RwePortal.Warehouse.Sources;
using RwePortal.Warehouse.Synthetic;

namespace RwePortal.Cli.Commands;

/// <summary>
/// <c>rwe generate</c> (a synthetic heart-failure source, every modality, deterministic by seed) and
/// <c>rwe bench load</c> (the warehouse load benchmark, attached to the shared <c>bench</c> parent).
/// </summary>
internal static class SyntheticCommands
{
    public static IEnumerable<Command> Create()
    {
        var generate = Generate();
        yield return generate;

        // The catalog's consumer adds each command to the root before asking for the next one, so the root is known
        // here: `load` joins the shared `bench` parent if another area created it, else this area creates it.
        var load = BenchLoad();
        var bench = generate.Parents.OfType<Command>().SelectMany(root => root.Subcommands).FirstOrDefault(c => c.Name == "bench");
        if (bench is not null)
        {
            bench.Subcommands.Add(load);
        }
        else
        {
            yield return BenchCommand.Create(load);
        }
    }

    private static Command Generate()
    {
        var source = new Option<string>("--source") { Description = "Data source to fill (created with `rwe source add NAME`); its tables are emptied first.", Required = true };
        var persons = new Option<long>("--persons") { Description = "Number of persons.", DefaultValueFactory = _ => 20_000 };
        var seed = new Option<long>("--seed") { Description = "Random seed: the same seed gives identical rows.", DefaultValueFactory = _ => 42 };
        var batch = new Option<int>("--batch-size") { Description = "Persons per COPY round.", DefaultValueFactory = _ => 2_500 };
        var command = new Command("generate", "Generate a synthetic heart-failure population (EHR, claims, PROs, genomics, wearables, consent) into a data source.");
        command.Options.Add(source);
        command.Options.Add(persons);
        command.Options.Add(seed);
        command.Options.Add(batch);
        command.SetAction((parseResult, cancellationToken) => RunAsync(async dataSource =>
        {
            var options = new SyntheticOptions(parseResult.GetValue(persons), parseResult.GetValue(seed), parseResult.GetValue(batch));
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var report = await SyntheticLoader.LoadAsync(connection, parseResult.GetValue(source)!, options, Progress, cancellationToken);
            await Console.Out.WriteAsync(Render(report));
            return 0;
        }));
        return command;
    }

    private static Command BenchLoad()
    {
        var persons = new Option<long>("--persons") { Description = "Number of persons.", DefaultValueFactory = _ => 1_000_000 };
        var seed = new Option<long>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 42 };
        var source = new Option<string>("--source") { Description = "Data source to (re)create for the benchmark.", DefaultValueFactory = _ => "bench" };
        var command = new Command("load", "Warehouse load benchmark: generate and load a fresh synthetic source; wall time per phase and rows/s.");
        command.Options.Add(persons);
        command.Options.Add(seed);
        command.Options.Add(source);
        command.SetAction((parseResult, cancellationToken) => RunAsync(async dataSource =>
        {
            var name = parseResult.GetValue(source)!;
            var registry = new DataSourceRegistry(dataSource);
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            if (await registry.FindAsync(name, cancellationToken) is null)
            {
                await registry.AddAsync(name, "warehouse load benchmark (synthetic)", cancellationToken);
            }
            else
            {
                // A fresh schema: no bloat or leftovers from earlier runs.
                await CdmSchema.DropAsync(connection, SchemaName.ForSource(name), cancellationToken);
                await CdmSchema.CreateAsync(connection, SchemaName.ForSource(name), cancellationToken);
            }

            var options = new SyntheticOptions(parseResult.GetValue(persons), parseResult.GetValue(seed));
            var report = await SyntheticLoader.LoadAsync(connection, name, options, Progress, cancellationToken);
            await Console.Out.WriteAsync(Render(report));
            return 0;
        }));
        return command;
    }

    private static void Progress(string message) => Console.Error.WriteLine($"rwe: {message}");

    internal static string Render(SyntheticLoadReport report)
    {
        static string N(double value) => value.ToString("N0", CultureInfo.InvariantCulture);
        static string S(TimeSpan value) => value.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture);

        var rows = report.Tables.Select(t => (IReadOnlyList<string>)
        [
            t.Table,
            N(t.Rows),
            S(t.CopyTime),
            t.CopyTime.TotalSeconds > 0 ? N(t.Rows / t.CopyTime.TotalSeconds) : "-",
        ]).ToList();
        rows.Add(["all tables", N(report.TotalRows), S(report.LoadWall), N(report.TotalRows / Math.Max(0.001, report.LoadWall.TotalSeconds))]);
        var text = new System.Text.StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"source {report.Source}: {N(report.Options.Persons)} persons, seed {report.Options.Seed}");
        text.Append(TextTable.Render(["table", "rows", "COPY s", "rows/s"], rows, [1, 2, 3]));
        text.AppendLine(CultureInfo.InvariantCulture, $"prepare (truncate, drop indexes, vocabulary)  {S(report.Prepare)} s");
        text.AppendLine(CultureInfo.InvariantCulture, $"generate (CPU time over {report.Options.EffectiveParallelism} threads, overlaps COPY)  {S(report.GenerateCpu)} s");
        text.AppendLine(CultureInfo.InvariantCulture, $"generate + COPY (wall)  {S(report.LoadWall)} s");
        text.AppendLine(CultureInfo.InvariantCulture, $"commit  {S(report.Commit)} s");
        text.AppendLine(CultureInfo.InvariantCulture, $"index build  {S(report.Indexes)} s");
        text.AppendLine(CultureInfo.InvariantCulture, $"ANALYZE  {S(report.Analyze)} s");
        text.AppendLine(CultureInfo.InvariantCulture, $"total  {S(report.Total)} s ({N(report.TotalRows / Math.Max(0.001, report.Total.TotalSeconds))} rows/s end to end)");
        var t = report.Truth;
        text.AppendLine(CultureInfo.InvariantCulture, $"new users: sacubitril/valsartan {N(t.NewUsersSacubitrilValsartan)}, enalapril {N(t.NewUsersEnalapril)}; prevalent users {N(t.PrevalentUsers)}; untreated {N(t.NoTreatment)}; first HF hospitalisations {N(t.FirstHfHospitalisations)}");
        return text.ToString();
    }

    /// <summary>Opens the owner's data source and turns expected failures into one line on stderr and exit code 1.</summary>
    internal static async Task<int> RunAsync(Func<NpgsqlDataSource, Task<int>> body)
    {
        if (!ConnectionSettings.TryGetOwner(out var connectionString))
        {
            await Console.Error.WriteLineAsync($"rwe: {ConnectionSettings.OwnerMissingMessage}");
            return 1;
        }

        try
        {
            // Loads and index builds run for minutes: no command timeout.
            var builder = new NpgsqlConnectionStringBuilder(connectionString) { CommandTimeout = 0 };
            await using var dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
            return await body(dataSource);
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
