using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using RwePortal.Application;
using RwePortal.Application.Analyses;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Cli.Infrastructure;
using RwePortal.Warehouse.Cohorts;
using RwePortal.Warehouse.Protocols;

namespace RwePortal.Cli.Commands;

/// <summary>
/// <c>rwe run-protocol --source S --protocol FILE.json --out result.json [--purpose P] [--seed N] [--facts FILE]</c>: the
/// portal's run pipeline, headless, on a complete protocol file, as the read-only warehouse role. Prints one line per step
/// with its time, writes the result document (camelCase JSON, the shape of <see cref="AnalysisResultDocument"/>) and the
/// run facts; counts go through the default small-cell policy (decision 0703: 1..10 shown as "&lt;11").
/// </summary>
internal static class RunProtocolCommand
{
    /// <summary>The seed of a run when none is given (cross-validation folds, matching order).</summary>
    public const int DefaultSeed = 20261124;

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DictionaryKeyPolicy = null,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static IEnumerable<Command> Create()
    {
        var command = new Command(
            "run-protocol",
            "Run a complete protocol on a source end to end (study population, covariates, propensity model, weights, balance, " +
            "Kaplan–Meier and Cox, subgroups, negative controls) and write the result document as JSON. Counts from 1 to 10 are shown as <11.");
        var source = new Option<string>("--source") { Description = "The data source (as `rwe source list` names it).", Required = true };
        var protocol = new Option<FileInfo>("--protocol") { Description = "The protocol (JSON, docs/protocols.md); it must be complete.", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "Where to write the result document (JSON).", Required = true };
        var purpose = new Option<string>("--purpose") { Description = "The consent purpose the run is for.", DefaultValueFactory = _ => SubgroupCounter.DefaultPurpose };
        var seed = new Option<int>("--seed") { Description = "The random seed (cross-validation folds).", DefaultValueFactory = _ => DefaultSeed };
        var facts = new Option<FileInfo?>("--facts") { Description = "Also write the run facts (source load time, removed by consent, code and package versions) to this file." };
        command.Options.Add(source);
        command.Options.Add(protocol);
        command.Options.Add(output);
        command.Options.Add(purpose);
        command.Options.Add(seed);
        command.Options.Add(facts);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var file = parseResult.GetValue(protocol)!;
            if (!file.Exists)
            {
                await Console.Error.WriteLineAsync($"{file.FullName}: no such file");
                return 1;
            }

            var parsed = ProtocolParser.Parse(await File.ReadAllTextAsync(file.FullName, cancellationToken));
            if (!parsed.IsValid)
            {
                foreach (var error in parsed.Errors)
                {
                    await Console.Error.WriteLineAsync($"{file.Name}: {error.Component}: {(error.Path.Length == 0 ? "(document)" : error.Path)}: {error.Message}");
                }

                await Console.Error.WriteLineAsync($"{file.Name}: a run needs a complete, valid protocol ({parsed.Errors.Count} error(s))");
                return 1;
            }

            if (!ConnectionSettings.TryGetOwner(out var owner))
            {
                await Console.Error.WriteLineAsync(ConnectionSettings.OwnerMissingMessage);
                return 2;
            }

            var reader = Environment.GetEnvironmentVariable(SubgroupCommands.ReaderVariable) is { Length: > 0 } r ? r
                : Environment.GetEnvironmentVariable(SubgroupCommands.ReaderFallbackVariable);
            if (string.IsNullOrWhiteSpace(reader))
            {
                await Console.Error.WriteLineAsync(
                    $"no warehouse connection: set {SubgroupCommands.ReaderVariable} (or {SubgroupCommands.ReaderFallbackVariable}) to the read-only role's connection string, e.g. eval \"$(./rwe db env)\"");
                return 2;
            }

            var definition = parsed.Protocol!;
            var input = new ProtocolRunInput(
                definition, 0, ProtocolCanonical.Hash(definition), parseResult.GetValue(source)!, parseResult.GetValue(purpose)!, parseResult.GetValue(seed), SmallCellPolicy.Default);
            var services = new ServiceCollection().AddLogging().AddApplication(owner, reader);
            await using var provider = services.BuildServiceProvider();
            await using var scope = provider.CreateAsyncScope();
            var pipeline = scope.ServiceProvider.GetRequiredService<IProtocolRunPipeline>();
            var printer = new StepPrinter(Console.Out);
            ProtocolRunOutput result;
            try
            {
                result = await pipeline.RunAsync(input, printer, cancellationToken);
            }
            catch (ProtocolRunFailedException ex)
            {
                printer.Finish();
                await Console.Error.WriteLineAsync($"run failed: {ex.Code}: {ex.Message}");
                return 3;
            }

            printer.Finish();
            var path = parseResult.GetValue(output)!;
            await File.WriteAllTextAsync(path.FullName, JsonSerializer.Serialize(result.Result, Json), cancellationToken);
            if (parseResult.GetValue(facts) is { } factsPath)
            {
                await File.WriteAllTextAsync(factsPath.FullName, JsonSerializer.Serialize(result.Facts, Json), cancellationToken);
            }

            var document = result.Result;
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{document.Header.TreatmentLabel} {document.Arms.PersonsTreatment.Display} ({document.Arms.EventsTreatment.Display} events), " +
                $"{document.Header.ComparatorLabel} {document.Arms.PersonsComparator.Display} ({document.Arms.EventsComparator.Display} events)"));
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"HR {document.Estimates.HazardRatio.Value:0.###} (95% CI {document.Estimates.HazardRatio.Lower:0.###}–{document.Estimates.HazardRatio.Upper:0.###}); " +
                $"unadjusted {document.Estimates.UnadjustedHazardRatio.Value:0.###}; diagnostics {(document.Diagnostics.Passed ? "passed" : "failed")}"));
            await Console.Out.WriteLineAsync(
                $"source loaded {result.Facts.SourceLoadedAt?.ToString("u", CultureInfo.InvariantCulture) ?? "(unknown)"}; removed by consent {result.Facts.RemovedByConsent.Display}; code {result.Facts.CodeVersion}");
            await Console.Out.WriteLineAsync($"wrote {path.FullName}");
            await RecordAsync(provider, input, printer.Total, "run-protocol", cancellationToken);
            return 0;
        });
        yield return command;
    }

    /// <summary>A headless run on the audit trail, as the operator's warehouse query (<paramref name="what"/>: the command).</summary>
    internal static async Task RecordAsync(IServiceProvider provider, ProtocolRunInput input, TimeSpan duration, string what, CancellationToken cancellationToken)
    {
        var details = new Dictionary<string, object?>
        {
            ["protocol_sha256"] = input.ProtocolHash,
            ["source"] = input.Source,
            ["purpose"] = input.Purpose,
            ["seed"] = input.Seed,
            ["duration_ms"] = Math.Round(duration.TotalMilliseconds, 1),
        };
        await provider.GetRequiredService<IAuditTrail>().RecordAsync(
            AuditActor.Service("cli:" + Environment.UserName),
            new AuditRecord(AuditEventTypes.WarehouseQuery, $"{what} on {input.Source}", AuditOutcomes.Success, details),
            cancellationToken);
    }

    /// <summary>Prints one line per step when it ends, with its time; reports arrive on the run's own thread, in order.</summary>
    private sealed class StepPrinter(TextWriter writer) : IProgress<AnalysisProgress>
    {
        private readonly Stopwatch _total = Stopwatch.StartNew();
        private readonly Stopwatch _step = new();
        private AnalysisProgress? _current;

        public TimeSpan Total => _total.Elapsed;

        public void Report(AnalysisProgress value)
        {
            if (_current is { } current && current.Step == value.Step)
            {
                return;
            }

            Finish();
            _current = value;
            _step.Restart();
        }

        public void Finish()
        {
            if (_current is { } current)
            {
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{current.Step.ToString().ToLowerInvariant(),-12} {_step.Elapsed.TotalSeconds,7:0.00} s  {current.Message}"));
                _current = null;
            }
        }
    }
}
