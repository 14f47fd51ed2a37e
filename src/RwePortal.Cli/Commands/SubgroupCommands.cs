using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using RwePortal.Application;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Features.Subgroups;
using RwePortal.Cli.Infrastructure;
using RwePortal.Warehouse;
using RwePortal.Warehouse.Cohorts;
using RwePortal.Warehouse.Cohorts.Characterization;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Cli.Commands;

/// <summary>
/// Subgroup commands: <c>subgroup count</c> (count, removed by consent, attrition; 1..10 shown as "&lt;11" unless
/// <c>--exact</c>), <c>subgroup sql</c> (the one statement a count runs, with its parameters) and <c>subgroup
/// characterize</c> (the Table 1 as JSON, small cells and their complements hidden unless <c>--exact</c>). The source's schema
/// is looked up in the registry as the owner role; the statement runs as the read-only warehouse role.
/// </summary>
internal static class SubgroupCommands
{
    /// <summary>Counts from 1 to this are shown as "&lt;11" unless --exact.</summary>
    public const int SmallCellMaximum = 10;

    public const string ReaderVariable = "RWE_CS_READER";
    public const string ReaderFallbackVariable = "ConnectionStrings__Warehouse";

    private static readonly JsonSerializerOptions JsonOutput = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly JsonSerializerOptions CharacterizationJson = new(JsonOutput)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static IEnumerable<Command> Create()
    {
        var subgroup = new Command("subgroup", "Cross-modality subgroups: count a definition (docs/criteria.md) on a source, or print its SQL.");
        subgroup.Subcommands.Add(Count());
        subgroup.Subcommands.Add(Sql());
        subgroup.Subcommands.Add(Characterize());
        yield return subgroup;
        SubgroupBenchCommand.Attach(subgroup);
    }

    private static (Option<string> Source, Option<FileInfo> Definition, Option<string> Purpose) CommonOptions(Command command)
    {
        var source = new Option<string>("--source") { Description = "The data source (as `rwe source list` names it).", Required = true };
        var definition = new Option<FileInfo>("--definition") { Description = "The subgroup definition (JSON, docs/criteria.md).", Required = true };
        var purpose = new Option<string>("--purpose")
        {
            Description = "The consent purpose the count is for.",
            DefaultValueFactory = _ => SubgroupCounter.DefaultPurpose,
        };
        command.Options.Add(source);
        command.Options.Add(definition);
        command.Options.Add(purpose);
        return (source, definition, purpose);
    }

    private static Command Count()
    {
        var count = new Command(
            "count",
            "Count the persons of a source who match a definition and may be used for the purpose: the count, how many consent " +
            "removed, and the persons left after each top-level criterion. Counts from 1 to 10 print as <11 unless --exact.");
        var (source, definition, purpose) = CommonOptions(count);
        var exact = new Option<bool>("--exact") { Description = "Operators only: print counts from 1 to 10 exactly." };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of text." };
        count.Options.Add(exact);
        count.Options.Add(json);
        count.SetAction(async (parseResult, cancellationToken) =>
        {
            var prepared = await PrepareAsync(parseResult.GetValue(source)!, parseResult.GetValue(definition)!, cancellationToken);
            if (prepared is null)
            {
                return 1;
            }

            if (!TryGetReader(out var reader))
            {
                await Console.Error.WriteLineAsync(
                    $"no warehouse connection: set {ReaderVariable} (or {ReaderFallbackVariable}) to the read-only role's connection string, e.g. eval \"$(./rwe db env)\"");
                return 2;
            }

            await using var connections = WarehouseConnections.Create(reader);
            var result = await new SubgroupCounter(connections).CountAsync(
                prepared.Value.Definition, prepared.Value.Source, parseResult.GetValue(purpose)!, cancellationToken);
            await RecordQueryAsync(prepared.Value.Definition, prepared.Value.Source, result, parseResult.GetValue(exact), cancellationToken);
            var output = parseResult.GetValue(json)
                ? FormatJson(result, parseResult.GetValue(exact))
                : FormatText(result, parseResult.GetValue(exact));
            await Console.Out.WriteAsync(output);
            return 0;
        });
        return count;
    }

    private static Command Sql()
    {
        var sql = new Command("sql", "Print the one parameterized statement `subgroup count` runs for a definition on a source, and its parameters.");
        var (source, definition, purpose) = CommonOptions(sql);
        var explain = new Option<bool>("--explain") { Description = "Run it under EXPLAIN (ANALYZE, BUFFERS) as the warehouse reader and print the plan too." };
        sql.Options.Add(explain);
        var countOnly = new Option<bool>("--count") { Description = "The statement of the count alone (no attrition, decision 0745) instead of the count with its funnel." };
        sql.Options.Add(countOnly);
        sql.SetAction(async (parseResult, cancellationToken) =>
        {
            var prepared = await PrepareAsync(parseResult.GetValue(source)!, parseResult.GetValue(definition)!, cancellationToken);
            if (prepared is null)
            {
                return 1;
            }

            if (parseResult.GetValue(explain))
            {
                if (!TryGetReader(out var reader))
                {
                    await Console.Error.WriteLineAsync($"no warehouse connection: set {ReaderVariable} (or {ReaderFallbackVariable})");
                    return 2;
                }

                await using var connections = WarehouseConnections.Create(reader);
                var counter = new SubgroupCounter(connections);
                var plan = parseResult.GetValue(countOnly)
                    ? await counter.ExplainTotalAsync(prepared.Value.Definition, prepared.Value.Source, parseResult.GetValue(purpose)!, cancellationToken)
                    : await counter.ExplainAsync(prepared.Value.Definition, prepared.Value.Source, parseResult.GetValue(purpose)!, cancellationToken);
                await Console.Out.WriteLineAsync(string.Join(Environment.NewLine, plan));
                return 0;
            }

            var compiled = parseResult.GetValue(countOnly)
                ? SubgroupCompiler.CompileCount(prepared.Value.Definition, prepared.Value.Source.SchemaName, prepared.Value.Source.Name, parseResult.GetValue(purpose)!)
                : SubgroupCounter.Compile(prepared.Value.Definition, prepared.Value.Source, parseResult.GetValue(purpose)!);
            await Console.Out.WriteAsync(FormatSql(compiled));
            return 0;
        });
        return sql;
    }

    private static Command Characterize()
    {
        var characterize = new Command(
            "characterize",
            "Write the Table 1 of a definition's consented members (demographics, top conditions and drugs, measurements, variant " +
            "carriers, wearables, visits and cost, PRO scores; docs/characterization.md) as JSON. Counts from 1 to 10 and the " +
            "counts that would reveal them by difference are hidden unless --exact.");
        var (source, definition, purpose) = CommonOptions(characterize);
        var output = new Option<FileInfo>("--out") { Description = "The JSON file to write.", Required = true };
        var exact = new Option<bool>("--exact") { Description = "Operators only: write every count exactly." };
        characterize.Options.Add(output);
        characterize.Options.Add(exact);
        characterize.SetAction(async (parseResult, cancellationToken) =>
        {
            var prepared = await PrepareAsync(parseResult.GetValue(source)!, parseResult.GetValue(definition)!, cancellationToken);
            if (prepared is null)
            {
                return 1;
            }

            if (!TryGetReader(out var reader))
            {
                await Console.Error.WriteLineAsync(
                    $"no warehouse connection: set {ReaderVariable} (or {ReaderFallbackVariable}) to the read-only role's connection string, e.g. eval \"$(./rwe db env)\"");
                return 2;
            }

            var (subgroup, dataSource, chosenPurpose, isExact) = (prepared.Value.Definition, prepared.Value.Source, parseResult.GetValue(purpose)!, parseResult.GetValue(exact));
            await using var connections = WarehouseConnections.Create(reader);
            var result = await new SubgroupCharacterizer(connections).CharacterizeAsync(subgroup, dataSource, chosenPurpose, include: null, cancellationToken);
            await RecordCharacterizationAsync(subgroup, dataSource, result, isExact, cancellationToken);
            var table = CharacterizationTable(result, isExact);
            var file = parseResult.GetValue(output)!;
            await File.WriteAllTextAsync(file.FullName, JsonSerializer.Serialize(table, CharacterizationJson) + Environment.NewLine, cancellationToken);
            await Console.Out.WriteLineAsync(
                $"{file.FullName}: Table 1 of {table.Persons.Display} persons on {dataSource.Name} ({chosenPurpose}), " +
                $"{table.Sections.Sum(s => s.Rows.Count)} rows in {table.Sections.Count(s => s.Rows.Count > 0)} sections; " +
                $"{(isExact ? "exact counts (--exact)" : $"counts from 1 to {SmallCellMaximum} and their complements hidden")}; {result.Duration.TotalMilliseconds:N0} ms");
            return 0;
        });
        return characterize;
    }

    /// <summary>
    /// The Table 1 as the CLI writes it: small cells suppressed and their complements hidden as the portal does, without
    /// the portal's noise (as <c>subgroup count</c> prints counts); with --exact every count as it is.
    /// </summary>
    internal static SubgroupTable1 CharacterizationTable(SubgroupCharacterization result, bool exact)
    {
        var policy = exact ? new SmallCellPolicy(threshold: 1) : new SmallCellPolicy(threshold: SmallCellMaximum + 1);
        return SubgroupTable1Builder.Build(result, policy, (count, _) => policy.Suppress(count));
    }

    /// <summary>Puts the characterization on the audit trail as <see cref="RecordQueryAsync"/> does for a count.</summary>
    private static async Task RecordCharacterizationAsync(
        SubgroupDefinition definition, DataSource source, SubgroupCharacterization result, bool exact, CancellationToken cancellationToken)
    {
        if (!ConnectionSettings.TryGetOwner(out var owner))
        {
            throw new InvalidOperationException(ConnectionSettings.OwnerMissingMessage);
        }

        var compiled = SubgroupCharacterizer.Compile(definition, source, result.Purpose);
        var details = new Dictionary<string, object?>
        {
            ["sql_sha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(compiled.Sql))),
            ["parameters"] = compiled.Parameters.ToDictionary(p => p.Name, p => p.Value),
            ["source"] = source.Name,
            ["purpose"] = result.Purpose,
            ["kind"] = "characterization",
            ["rows"] = result.Persons,
            ["duration_ms"] = Math.Round(result.Duration.TotalMilliseconds, 1),
            ["exact"] = exact,
        };
        var services = new ServiceCollection().AddLogging().AddApplication(owner);
        await using var provider = services.BuildServiceProvider();
        await provider.GetRequiredService<IAuditTrail>().RecordAsync(
            AuditActor.Service("cli:" + Environment.UserName),
            new AuditRecord(AuditEventTypes.WarehouseQuery, $"subgroup characterize on {source.Name}", AuditOutcomes.Success, details),
            cancellationToken);
    }

    /// <summary>
    /// Puts the count on the audit trail as a warehouse query of the operator (<c>cli:&lt;user&gt;</c>): the statement's
    /// SHA-256, its parameters, purpose, the count, the time it took, and whether small counts were shown exactly.
    /// </summary>
    internal static async Task RecordQueryAsync(SubgroupDefinition definition, DataSource source, SubgroupCount result, bool exact, CancellationToken cancellationToken)
    {
        // PrepareAsync has refused to go on without the owner's connection.
        if (!ConnectionSettings.TryGetOwner(out var owner))
        {
            throw new InvalidOperationException(ConnectionSettings.OwnerMissingMessage);
        }

        var compiled = SubgroupCounter.Compile(definition, source, result.Purpose);
        var details = new Dictionary<string, object?>
        {
            ["sql_sha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(compiled.Sql))),
            ["parameters"] = compiled.Parameters.ToDictionary(p => p.Name, p => p.Value),
            ["source"] = source.Name,
            ["purpose"] = result.Purpose,
            ["rows"] = result.Count,
            ["removed_by_consent"] = result.RemovedByConsent,
            ["duration_ms"] = Math.Round(result.Duration.TotalMilliseconds, 1),
            ["exact"] = exact,
        };
        var services = new ServiceCollection().AddLogging().AddApplication(owner);
        await using var provider = services.BuildServiceProvider();
        await provider.GetRequiredService<IAuditTrail>().RecordAsync(
            AuditActor.Service("cli:" + Environment.UserName),
            new AuditRecord(AuditEventTypes.WarehouseQuery, $"subgroup count on {source.Name}", AuditOutcomes.Success, details),
            cancellationToken);
    }

    /// <summary>Reads and validates the definition, then finds the source; prints what is wrong and returns null on failure.</summary>
    private static async Task<(SubgroupDefinition Definition, DataSource Source)?> PrepareAsync(string sourceName, FileInfo file, CancellationToken cancellationToken)
    {
        if (!file.Exists)
        {
            await Console.Error.WriteLineAsync($"{file.FullName}: no such file");
            return null;
        }

        if (file.Length > SubgroupDefinitionParser.MaxDocumentLength * 4L)
        {
            await Console.Error.WriteLineAsync($"{file.Name}: larger than a definition may be");
            return null;
        }

        var parsed = SubgroupDefinitionParser.Parse(await File.ReadAllTextAsync(file.FullName, cancellationToken));
        if (!parsed.IsValid)
        {
            foreach (var error in parsed.Errors)
            {
                await Console.Error.WriteLineAsync($"{file.Name}: {error}");
            }

            await Console.Error.WriteLineAsync($"{file.Name}: not a valid subgroup definition ({parsed.Errors.Count} error(s))");
            return null;
        }

        if (!ConnectionSettings.TryGetOwner(out var owner))
        {
            await Console.Error.WriteLineAsync(ConnectionSettings.OwnerMissingMessage);
            return null;
        }

        await using var dataSource = NpgsqlDataSource.Create(owner);
        var source = await new DataSourceRegistry(dataSource).FindAsync(sourceName, cancellationToken);
        if (source is null)
        {
            await Console.Error.WriteLineAsync($"data source '{sourceName}' does not exist (`rwe source list` shows the registered ones)");
            return null;
        }

        return (parsed.Definition!, source);
    }

    private static bool TryGetReader(out string connectionString)
    {
        connectionString = Read(ReaderVariable) ?? Read(ReaderFallbackVariable) ?? "";
        return connectionString.Length > 0;

        static string? Read(string name) =>
            Environment.GetEnvironmentVariable(name) is { Length: > 0 } value && !string.IsNullOrWhiteSpace(value) ? value : null;
    }

    /// <summary>A count as shown: 1..10 as "&lt;11" unless exact.</summary>
    internal static string Show(long value, bool exact) =>
        !exact && value is >= 1 and <= SmallCellMaximum
            ? $"<{SmallCellMaximum + 1}"
            : value.ToString("N0", CultureInfo.InvariantCulture);

    private static bool Suppressed(long value, bool exact) => !exact && value is >= 1 and <= SmallCellMaximum;

    internal static string FormatText(SubgroupCount result, bool exact)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"source {result.Source}, purpose {result.Purpose}");
        text.AppendLine(CultureInfo.InvariantCulture, $"count: {Show(result.Count, exact)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"removed by consent: {Show(result.RemovedByConsent, exact)}");
        text.AppendLine();
        text.Append(TextTable.Render(
            ["step", "remaining"],
            result.Attrition.Select(step => (IReadOnlyList<string>)[step.Step, Show(step.Remaining, exact)]),
            rightAligned: [1]));
        text.AppendLine(CultureInfo.InvariantCulture, $"{(exact ? "exact counts (--exact)" : $"counts from 1 to {SmallCellMaximum} shown as <{SmallCellMaximum + 1}")}; {result.Duration.TotalMilliseconds:N0} ms");
        return text.ToString();
    }

    internal static string FormatJson(SubgroupCount result, bool exact)
    {
        long? Value(long value) => Suppressed(value, exact) ? null : value;
        var document = new
        {
            source = result.Source,
            purpose = result.Purpose,
            exact,
            count = Value(result.Count),
            countShown = Show(result.Count, exact),
            removedByConsent = Value(result.RemovedByConsent),
            removedByConsentShown = Show(result.RemovedByConsent, exact),
            attrition = result.Attrition.Select(step => new { step = step.Step, remaining = Value(step.Remaining), shown = Show(step.Remaining, exact) }),
            milliseconds = Math.Round(result.Duration.TotalMilliseconds, 1),
        };
        return JsonSerializer.Serialize(document, JsonOutput) + Environment.NewLine;
    }

    internal static string FormatSql(CompiledSubgroup compiled)
    {
        var text = new StringBuilder();
        text.AppendLine("-- parameters");
        foreach (var parameter in compiled.Parameters)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"--   @{parameter.Name} = {Literal(parameter.Value)}");
        }

        text.AppendLine("-- attrition steps: " + string.Join(" | ", compiled.Steps));
        text.AppendLine(compiled.Sql + ";");
        return text.ToString();
    }

    private static string Literal(object value) => value switch
    {
        string s => JsonSerializer.Serialize(s),
        int[] ids => "{" + string.Join(",", ids.Select(i => i.ToString(CultureInfo.InvariantCulture))) + "} (integer[])",
        string[] strings => JsonSerializer.Serialize(strings) + " (text[])",
        DateOnly date => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + " (date)",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
