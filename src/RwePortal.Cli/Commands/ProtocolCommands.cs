using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using RwePortal.Application;
using RwePortal.Application.Audit;
using RwePortal.Cli.Infrastructure;
using RwePortal.Warehouse;
using RwePortal.Warehouse.Cohorts;
using RwePortal.Warehouse.Protocols;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Cli.Commands;

/// <summary>
/// Protocol commands: <c>protocol validate FILE</c> (no database: the errors per component with node paths, or the
/// protocol's content hash) and <c>protocol preview --source S FILE</c> (the outcome-blind cohort preview: attrition
/// per arm and time zero, 1..10 shown as "&lt;11" unless <c>--exact</c>; as the read-only warehouse role, audited) and
/// <c>protocol sql</c> (the preview's one statement with its parameters, or its plan).
/// </summary>
internal static class ProtocolCommands
{
    private static readonly JsonSerializerOptions JsonOutput = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly string[] PreviewComponents = [ProtocolComponents.Strategies, ProtocolComponents.Eligibility, ProtocolComponents.TimeZero];

    public static IEnumerable<Command> Create()
    {
        var protocol = new Command("protocol", "Target-trial-emulation protocols (docs/protocols.md): validate a protocol file, or preview its cohort on a source.");
        protocol.Subcommands.Add(Validate());
        protocol.Subcommands.Add(Preview());
        protocol.Subcommands.Add(Sql());
        yield return protocol;
    }

    private static Argument<FileInfo> FileArgument() => new("file") { Description = "The protocol (JSON, docs/protocols.md)." };

    private static Command Validate()
    {
        var validate = new Command(
            "validate",
            "Check a protocol: exit 0 when it is complete and consistent (prints its content hash), 1 with every error listed per component with its node path.");
        var file = FileArgument();
        var draft = new Option<bool>("--draft") { Description = "Check it as a draft: missing components and fields are listed but do not fail it." };
        validate.Arguments.Add(file);
        validate.Options.Add(draft);
        validate.SetAction(async (parseResult, cancellationToken) =>
        {
            var path = parseResult.GetValue(file)!;
            var text = await ReadAsync(path, cancellationToken);
            if (text is null)
            {
                return 1;
            }

            var isDraft = parseResult.GetValue(draft);
            var result = isDraft ? ProtocolParser.ParseDraft(text) : ProtocolParser.Parse(text);
            await PrintErrorsAsync(path, result.Errors, Console.Out);
            if (!result.IsValid)
            {
                await Console.Out.WriteLineAsync($"{path.Name}: not a valid protocol{(isDraft ? " draft" : "")} ({result.Errors.Count} error(s))");
                return 1;
            }

            var protocol = result.Protocol!;
            await Console.Out.WriteLineAsync(
                $"{path.Name}: valid protocol{(isDraft ? " draft" : "")} (version {protocol.Version}, {protocol.Components.Count} of {ProtocolComponents.All.Count} components) \"{protocol.General?.Title}\"");
            await Console.Out.WriteLineAsync($"sha256 {ProtocolCanonical.Hash(protocol)}");
            return 0;
        });
        return validate;
    }

    private static Command Preview()
    {
        var preview = new Command(
            "preview",
            "Preview a protocol's cohort on a source without any outcome information: persons per arm after each step of " +
            "eligibility and the strategies, and the distribution of time zero. Counts from 1 to 10 print as <11 unless --exact.");
        var file = FileArgument();
        var source = new Option<string>("--source") { Description = "The data source (as `rwe source list` names it).", Required = true };
        var purpose = new Option<string>("--purpose") { Description = "The consent purpose the preview is for.", DefaultValueFactory = _ => SubgroupCounter.DefaultPurpose };
        var exact = new Option<bool>("--exact") { Description = "Operators only: print counts from 1 to 10 exactly." };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of text." };
        var byMonth = new Option<bool>("--by-month") { Description = "Bin time zero by month instead of year." };
        preview.Arguments.Add(file);
        preview.Options.Add(source);
        preview.Options.Add(purpose);
        preview.Options.Add(exact);
        preview.Options.Add(json);
        preview.Options.Add(byMonth);
        preview.SetAction(async (parseResult, cancellationToken) =>
        {
            var prepared = await PrepareAsync(parseResult.GetValue(file)!, parseResult.GetValue(source)!, cancellationToken);
            if (prepared is null)
            {
                return 1;
            }

            if (!TryGetReader(out var reader))
            {
                return 2;
            }

            var (title, input, dataSource, owner) = prepared.Value;
            var binning = parseResult.GetValue(byMonth) ? TimeZeroBinning.Month : TimeZeroBinning.Year;
            var purposeName = parseResult.GetValue(purpose)!;
            await using var connections = WarehouseConnections.Create(reader);
            var result = await new ProtocolPreviewer(connections).PreviewAsync(input, dataSource, purposeName, binning, cancellationToken);
            var isExact = parseResult.GetValue(exact);
            await RecordQueryAsync(owner, ProtocolPreviewer.Compile(input, dataSource, purposeName, binning), result, isExact, cancellationToken);
            await Console.Out.WriteAsync(parseResult.GetValue(json) ? FormatJson(title, result, isExact) : FormatText(title, result, isExact));
            return 0;
        });
        return preview;
    }

    private static Command Sql()
    {
        var sql = new Command("sql", "Print the one parameterized statement `protocol preview` runs for a protocol on a source, its parameters and attrition steps.");
        var file = FileArgument();
        var source = new Option<string>("--source") { Description = "The data source (as `rwe source list` names it).", Required = true };
        var purpose = new Option<string>("--purpose") { Description = "The consent purpose the preview is for.", DefaultValueFactory = _ => SubgroupCounter.DefaultPurpose };
        var explain = new Option<bool>("--explain") { Description = "Run it under EXPLAIN (ANALYZE, BUFFERS) as the warehouse reader and print the plan instead." };
        sql.Arguments.Add(file);
        sql.Options.Add(source);
        sql.Options.Add(purpose);
        sql.Options.Add(explain);
        sql.SetAction(async (parseResult, cancellationToken) =>
        {
            var prepared = await PrepareAsync(parseResult.GetValue(file)!, parseResult.GetValue(source)!, cancellationToken);
            if (prepared is null)
            {
                return 1;
            }

            var compiled = ProtocolPreviewer.Compile(prepared.Value.Input, prepared.Value.Source, parseResult.GetValue(purpose)!);
            if (!parseResult.GetValue(explain))
            {
                await Console.Out.WriteAsync(SubgroupCommands.FormatSql(new CompiledSubgroup(compiled.Sql, compiled.Parameters, compiled.Steps)));
                return 0;
            }

            if (!TryGetReader(out var reader))
            {
                return 2;
            }

            var parameters = new DynamicParameters();
            foreach (var parameter in compiled.Parameters)
            {
                parameters.Add(parameter.Name, parameter.Value);
            }

            await using var connections = WarehouseConnections.Create(reader);
            await using var connection = await connections.OpenAsync(cancellationToken);
            var plan = await connection.QueryAsync<string>(new CommandDefinition(
                "EXPLAIN (ANALYZE, BUFFERS) " + compiled.Sql, parameters, commandTimeout: WarehouseConnections.CommandTimeoutSeconds, cancellationToken: cancellationToken));
            await Console.Out.WriteLineAsync(string.Join(Environment.NewLine, plan));
            return 0;
        });
        return sql;
    }

    /// <summary>
    /// Reads the protocol (a draft previews once its strategies, eligibility and time zero are valid) and finds the
    /// source as the owner; prints what is wrong and returns null on failure.
    /// </summary>
    private static async Task<(string Title, ProtocolPreviewInput Input, DataSource Source, string Owner)?> PrepareAsync(FileInfo path, string sourceName, CancellationToken cancellationToken)
    {
        var text = await ReadAsync(path, cancellationToken);
        if (text is null)
        {
            return null;
        }

        var parsed = ProtocolParser.ParseDraft(text);
        var input = parsed.Protocol is { } p ? ProtocolPreviewInput.From(p) : null;
        var blocking = parsed.IsValid ? parsed.Errors.Where(e => PreviewComponents.Contains(e.Component)).ToList() : parsed.Errors.ToList();
        if (blocking.Count > 0 || input is null)
        {
            await PrintErrorsAsync(path, blocking, Console.Error);
            await Console.Error.WriteLineAsync($"{path.Name}: the preview needs valid strategies, eligibility and time zero ({blocking.Count} error(s))");
            return null;
        }

        if (!ConnectionSettings.TryGetOwner(out var owner))
        {
            await Console.Error.WriteLineAsync(ConnectionSettings.OwnerMissingMessage);
            return null;
        }

        DataSource? dataSource;
        await using (var ownerSource = NpgsqlDataSource.Create(owner))
        {
            dataSource = await new DataSourceRegistry(ownerSource).FindAsync(sourceName, cancellationToken);
        }

        if (dataSource is null)
        {
            await Console.Error.WriteLineAsync($"data source '{sourceName}' does not exist (`rwe source list` shows the registered ones)");
            return null;
        }

        return (parsed.Protocol!.General?.Title ?? path.Name, input, dataSource, owner);
    }

    private static bool TryGetReader(out string reader)
    {
        reader = Environment.GetEnvironmentVariable(SubgroupCommands.ReaderVariable) is { Length: > 0 } r ? r
            : Environment.GetEnvironmentVariable(SubgroupCommands.ReaderFallbackVariable) ?? "";
        if (!string.IsNullOrWhiteSpace(reader))
        {
            return true;
        }

        Console.Error.WriteLine(
            $"no warehouse connection: set {SubgroupCommands.ReaderVariable} (or {SubgroupCommands.ReaderFallbackVariable}) to the read-only role's connection string, e.g. eval \"$(./rwe db env)\"");
        return false;
    }

    private static async Task<string?> ReadAsync(FileInfo file, CancellationToken cancellationToken)
    {
        if (!file.Exists)
        {
            await Console.Error.WriteLineAsync($"{file.FullName}: no such file");
            return null;
        }

        if (file.Length > ProtocolParser.MaxDocumentLength * 4L)
        {
            await Console.Error.WriteLineAsync($"{file.Name}: larger than a protocol may be");
            return null;
        }

        return await File.ReadAllTextAsync(file.FullName, cancellationToken);
    }

    /// <summary>Errors grouped per component, in the protocol's component order.</summary>
    private static async Task PrintErrorsAsync(FileInfo file, IReadOnlyList<ProtocolError> errors, TextWriter writer)
    {
        foreach (var group in errors.GroupBy(e => e.Component).OrderBy(g => IndexOf(g.Key)))
        {
            await writer.WriteLineAsync($"{file.Name}: {group.Key}:");
            foreach (var error in group)
            {
                await writer.WriteLineAsync($"  {(error.Path.Length == 0 ? "(document)" : error.Path)}: {error.Message}");
            }
        }

        static int IndexOf(string component) => ProtocolComponents.All.ToList().IndexOf(component) is var i and >= 0 ? i : int.MaxValue;
    }

    /// <summary>The preview on the audit trail as a warehouse query of the operator, as `subgroup count` records its count.</summary>
    private static async Task RecordQueryAsync(string owner, CompiledPreview compiled, ProtocolPreview result, bool exact, CancellationToken cancellationToken)
    {
        var details = new Dictionary<string, object?>
        {
            ["sql_sha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(compiled.Sql))),
            ["parameters"] = compiled.Parameters.ToDictionary(p => p.Name, p => p.Value),
            ["source"] = result.Source,
            ["purpose"] = result.Purpose,
            ["rows"] = result.Cohort.Total,
            ["removed_by_consent"] = result.RemovedByConsent.Total,
            ["duration_ms"] = Math.Round(result.Duration.TotalMilliseconds, 1),
            ["exact"] = exact,
        };
        var services = new ServiceCollection().AddLogging().AddApplication(owner);
        await using var provider = services.BuildServiceProvider();
        await provider.GetRequiredService<IAuditTrail>().RecordAsync(
            AuditActor.Service("cli:" + Environment.UserName),
            new AuditRecord(AuditEventTypes.WarehouseQuery, $"protocol preview on {result.Source}", AuditOutcomes.Success, details),
            cancellationToken);
    }

    private static string Show(long value, bool exact) => SubgroupCommands.Show(value, exact);

    internal static string FormatText(string title, ProtocolPreview result, bool exact)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{title}");
        text.AppendLine(CultureInfo.InvariantCulture, $"source {result.Source}, purpose {result.Purpose}; outcome blinded: no outcome information is read");
        text.AppendLine(CultureInfo.InvariantCulture, $"cohort: {result.TreatmentLabel} {Show(result.Cohort.Treatment, exact)}, {result.ComparatorLabel} {Show(result.Cohort.Comparator, exact)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"removed by consent: {Show(result.RemovedByConsent.Total, exact)}");
        text.AppendLine();
        text.Append(TextTable.Render(
            ["step", result.TreatmentLabel, result.ComparatorLabel, "both", "total"],
            result.Attrition.Select(step => (IReadOnlyList<string>)(step.Remaining is { } r
                ? [step.Label, Show(r.Treatment, exact), Show(r.Comparator, exact), Show(r.Both, exact), Show(r.Total, exact)]
                : [step.Label, "-", "-", "-", "-"])),
            rightAligned: [1, 2, 3, 4]));
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"time zero by {(result.Binning == TimeZeroBinning.Month ? "month" : "year")}");
        text.Append(TextTable.Render(
            [result.Binning == TimeZeroBinning.Month ? "month" : "year", result.TreatmentLabel, result.ComparatorLabel],
            result.TimeZero.Select(b => (IReadOnlyList<string>)[b.Period, Show(b.Treatment, exact), Show(b.Comparator, exact)]),
            rightAligned: [1, 2]));
        text.AppendLine(CultureInfo.InvariantCulture,
            $"{(exact ? "exact counts (--exact)" : $"counts from 1 to {SubgroupCommands.SmallCellMaximum} shown as <{SubgroupCommands.SmallCellMaximum + 1}")}; {result.Duration.TotalMilliseconds:N0} ms");
        return text.ToString();
    }

    internal static string FormatJson(string title, ProtocolPreview result, bool exact)
    {
        object Count(long value) => new { value = !exact && value is >= 1 and <= SubgroupCommands.SmallCellMaximum ? (long?)null : value, shown = Show(value, exact) };
        object? Arms(ArmCounts? arms) => arms is null
            ? null
            : new { treatment = Count(arms.Treatment), comparator = Count(arms.Comparator), both = Count(arms.Both), total = Count(arms.Total) };
        var document = new
        {
            title,
            source = result.Source,
            purpose = result.Purpose,
            exact,
            outcomeBlinded = true,
            treatment = result.TreatmentLabel,
            comparator = result.ComparatorLabel,
            cohort = Arms(result.Cohort),
            removedByConsent = Arms(result.RemovedByConsent),
            attrition = result.Attrition.Select(step => new { step = step.Label, applied = step.Remaining is not null, remaining = Arms(step.Remaining) }),
            timeZero = new
            {
                by = result.Binning == TimeZeroBinning.Month ? "month" : "year",
                bins = result.TimeZero.Select(b => new { period = b.Period, treatment = Count(b.Treatment), comparator = Count(b.Comparator) }),
            },
            milliseconds = Math.Round(result.Duration.TotalMilliseconds, 1),
        };
        return JsonSerializer.Serialize(document, JsonOutput) + Environment.NewLine;
    }
}
