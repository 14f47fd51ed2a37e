using System.CommandLine;
using System.Globalization;
using System.Reflection;
using System.Text;
using Npgsql;
using RwePortal.Cli.Infrastructure;
using RwePortal.Warehouse;
using RwePortal.Warehouse.Cohorts;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Cli.Commands;

/// <summary>
/// <c>rwe bench subgroups</c>: times subgroup counts on a source (by default <c>bench</c>, the source <c>rwe bench load</c>
/// fills) as the reader role, consent included: the count alone (<see cref="SubgroupCounter.CountTotalAsync"/>, decision
/// 0745) and the funnel (<see cref="SubgroupCounter.CountAsync"/>, the count with its attrition, as <c>rwe subgroup count</c>
/// runs it). Each definition runs warm (warm-up runs first, not timed), then <c>--runs</c> timed runs of each; p50 and
/// p95 per definition and statement. The two must give the same count, or the command fails.
/// The definitions are the synthetic examples of docs/examples/subgroups (built into the CLI), or the files given.
/// </summary>
internal static class SubgroupBenchCommand
{
    /// <summary>The built-in definitions, in the order they run: one per modality, then the four-modality example.</summary>
    public static readonly string[] BuiltIn =
    [
        "synthetic-heart-failure.json",
        "synthetic-lvef-40.json",
        "synthetic-ttr-v142i.json",
        "synthetic-low-steps-2023.json",
        "synthetic-enrolled-2022.json",
        "synthetic-kccq-50.json",
        "synthetic-ttr-hf-low-steps.json",
    ];

    /// <summary>Joins the shared <c>bench</c> parent of the root <paramref name="sibling"/> was added to (or creates it).</summary>
    public static void Attach(Command sibling)
    {
        var root = sibling.Parents.OfType<Command>().FirstOrDefault();
        if (root is null)
        {
            return;
        }

        var bench = root.Subcommands.FirstOrDefault(c => c.Name == "bench");
        if (bench is null)
        {
            root.Subcommands.Add(BenchCommand.Create(Create()));
        }
        else
        {
            bench.Subcommands.Add(Create());
        }
    }

    public static Command Create()
    {
        var source = new Option<string>("--source") { Description = "The data source to count on.", DefaultValueFactory = _ => "bench" };
        var purpose = new Option<string>("--purpose") { Description = "The consent purpose.", DefaultValueFactory = _ => SubgroupCounter.DefaultPurpose };
        var runs = new Option<int>("--runs") { Description = "Timed runs per definition.", DefaultValueFactory = _ => 10 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed runs per definition before the timed ones.", DefaultValueFactory = _ => 2 };
        var definitions = new Option<FileInfo[]>("--definition")
        {
            Description = "A definition file to time (repeatable); default: the built-in synthetic examples of docs/examples/subgroups.",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command(
            "subgroups",
            "Subgroup count benchmark: times definitions (one per modality and the four-modality example) on a source, warm, " +
            "as the warehouse reader with consent; p50/p95 per definition.");
        command.Options.Add(source);
        command.Options.Add(purpose);
        command.Options.Add(runs);
        command.Options.Add(warmup);
        command.Options.Add(definitions);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var timedRuns = parseResult.GetValue(runs);
            var warmupRuns = parseResult.GetValue(warmup);
            if (timedRuns < 1 || warmupRuns < 0)
            {
                await Console.Error.WriteLineAsync("rwe: --runs must be at least 1 and --warmup at least 0");
                return 1;
            }

            var documents = new List<(string Name, string Json)>();
            var files = parseResult.GetValue(definitions) ?? [];
            if (files.Length == 0)
            {
                documents.AddRange(BuiltIn.Select(name => (name, ReadBuiltIn(name))));
            }
            else
            {
                foreach (var file in files)
                {
                    if (!file.Exists)
                    {
                        await Console.Error.WriteLineAsync($"{file.FullName}: no such file");
                        return 1;
                    }

                    documents.Add((file.Name, await File.ReadAllTextAsync(file.FullName, cancellationToken)));
                }
            }

            var parsed = new List<(string Name, SubgroupDefinition Definition)>();
            foreach (var (name, json) in documents)
            {
                var result = SubgroupDefinitionParser.Parse(json);
                if (!result.IsValid)
                {
                    foreach (var error in result.Errors)
                    {
                        await Console.Error.WriteLineAsync($"{name}: {error}");
                    }

                    return 1;
                }

                parsed.Add((name, result.Definition!));
            }

            if (!ConnectionSettings.TryGetOwner(out var owner))
            {
                await Console.Error.WriteLineAsync($"rwe: {ConnectionSettings.OwnerMissingMessage}");
                return 1;
            }

            var reader = Environment.GetEnvironmentVariable(SubgroupCommands.ReaderVariable) is { Length: > 0 } r ? r
                : Environment.GetEnvironmentVariable(SubgroupCommands.ReaderFallbackVariable) ?? "";
            if (reader.Length == 0)
            {
                await Console.Error.WriteLineAsync(
                    $"rwe: no warehouse connection: set {SubgroupCommands.ReaderVariable} (or {SubgroupCommands.ReaderFallbackVariable}), e.g. eval \"$(./rwe db env)\"");
                return 2;
            }

            DataSource? dataSource;
            await using (var ownerSource = NpgsqlDataSource.Create(owner))
            {
                dataSource = await new DataSourceRegistry(ownerSource).FindAsync(parseResult.GetValue(source)!, cancellationToken);
            }

            if (dataSource is null)
            {
                await Console.Error.WriteLineAsync($"rwe: data source '{parseResult.GetValue(source)}' does not exist (`rwe bench load` creates `bench`)");
                return 1;
            }

            await using var connections = WarehouseConnections.Create(reader);
            var counter = new SubgroupCounter(connections);
            var rows = new List<BenchRow>();
            var forPurpose = parseResult.GetValue(purpose)!;
            foreach (var (name, definition) in parsed)
            {
                // The count (what the builder shows first), then the funnel (the attrition statement, shown when it arrives).
                SubgroupTotal? total = null;
                SubgroupCount? funnel = null;
                for (var i = 0; i < warmupRuns; i++)
                {
                    total = await counter.CountTotalAsync(definition, dataSource, forPurpose, cancellationToken);
                    funnel = await counter.CountAsync(definition, dataSource, forPurpose, cancellationToken);
                }

                var countTimes = new List<double>();
                var funnelTimes = new List<double>();
                for (var i = 0; i < timedRuns; i++)
                {
                    total = await counter.CountTotalAsync(definition, dataSource, forPurpose, cancellationToken);
                    countTimes.Add(total.Duration.TotalMilliseconds);
                }

                for (var i = 0; i < timedRuns; i++)
                {
                    funnel = await counter.CountAsync(definition, dataSource, forPurpose, cancellationToken);
                    funnelTimes.Add(funnel.Duration.TotalMilliseconds);
                }

                if (total!.Count != funnel!.Count || total.RemovedByConsent != funnel.RemovedByConsent)
                {
                    await Console.Error.WriteLineAsync($"rwe: {name}: the count and the funnel's last step differ");
                    return 1;
                }

                // On the audit trail once per definition, as `subgroup count` records each count.
                await SubgroupCommands.RecordQueryAsync(definition, dataSource, funnel, exact: false, cancellationToken);
                var row = new BenchRow(name, funnel, countTimes, funnelTimes);
                rows.Add(row);
                await Console.Error.WriteLineAsync(
                    $"rwe: {name}: count p50 {row.P50:F0} ms, p95 {row.P95:F0} ms; funnel p50 {Percentile(funnelTimes, 50):F0} ms, p95 {Percentile(funnelTimes, 95):F0} ms");
            }

            await Console.Out.WriteAsync(Render(dataSource.Name, parseResult.GetValue(purpose)!, warmupRuns, rows));
            return 0;
        });
        return command;
    }

    /// <summary>One definition's runs: the last funnel (counts), the timed durations in ms of the count and of the funnel.</summary>
    internal sealed record BenchRow(string Name, SubgroupCount Result, IReadOnlyList<double> Milliseconds, IReadOnlyList<double> FunnelMilliseconds)
    {
        public double P50 => Percentile(Milliseconds, 50);

        public double P95 => Percentile(Milliseconds, 95);
    }

    /// <summary>Nearest-rank percentile: the smallest value with at least p % of the values at or below it.</summary>
    internal static double Percentile(IReadOnlyList<double> values, double p)
    {
        if (values.Count == 0)
        {
            throw new ArgumentException("no values", nameof(values));
        }

        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank, 1, sorted.Length) - 1];
    }

    internal static string Render(string source, string purpose, int warmup, IReadOnlyList<BenchRow> rows)
    {
        static string Ms(double value) => value.ToString("N0", CultureInfo.InvariantCulture);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"source {source}, purpose {purpose}: {(rows.Count == 0 ? 0 : rows[0].Milliseconds.Count)} timed runs per definition after {warmup} warm-up run(s), as the warehouse reader, consent included");
        text.Append(TextTable.Render(
            ["definition", "count", "consented", "p50 ms", "p95 ms", "min ms", "max ms", "funnel p50 ms", "funnel p95 ms"],
            rows.Select(row => (IReadOnlyList<string>)
            [
                row.Name,
                SubgroupCommands.Show(row.Result.Count, exact: false),
                SubgroupCommands.Show(row.Result.Attrition[0].Remaining, exact: false),
                Ms(row.P50),
                Ms(row.P95),
                Ms(row.Milliseconds.Min()),
                Ms(row.Milliseconds.Max()),
                Ms(Percentile(row.FunnelMilliseconds, 50)),
                Ms(Percentile(row.FunnelMilliseconds, 95)),
            ]),
            rightAligned: [1, 2, 3, 4, 5, 6, 7, 8]));
        text.AppendLine("p50/p95/min/max: the count alone (what the builder shows first); funnel: the statement of the count with its attrition");
        text.AppendLine(CultureInfo.InvariantCulture, $"counts from 1 to {SubgroupCommands.SmallCellMaximum} shown as <{SubgroupCommands.SmallCellMaximum + 1}");
        return text.ToString();
    }

    internal static string ReadBuiltIn(string name)
    {
        var assembly = Assembly.GetExecutingAssembly();
        using var stream = assembly.GetManifestResourceStream("RwePortal.Cli.Bench." + name)
            ?? throw new InvalidOperationException($"built-in definition {name} is missing from the CLI");
        using var text = new StreamReader(stream, Encoding.UTF8);
        return text.ReadToEnd();
    }
}
