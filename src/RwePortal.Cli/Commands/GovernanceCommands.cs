using System.CommandLine;
using System.Globalization;
using Npgsql;
using RwePortal.Application.Audit;
using RwePortal.Application.Consent;
using RwePortal.Cli.Infrastructure;

namespace RwePortal.Cli.Commands;

/// <summary>
/// Governance commands: <c>consent import --source S FILE</c> (the portal's importer: all or nothing) and
/// <c>audit verify [--anchor ID:HASH]</c> (recomputes the audit trail's hash chain, checks its head and an anchor). Both run
/// as the owner role.
/// </summary>
internal static class GovernanceCommands
{
    public static IEnumerable<Command> Create()
    {
        yield return Consent();
        yield return Audit();
    }

    private static Command Consent()
    {
        var consent = new Command("consent", "The consent registry (gov.consent).");
        var import = new Command(
            "import",
            "Import consent records from CSV: person_id or person_source_value, purpose, status, effective_from[, effective_to][, reason]. " +
            "The whole file is checked first; any error applies nothing.");
        var source = new Option<string>("--source") { Description = "The data source the persons belong to.", Required = true };
        var file = new Argument<FileInfo>("FILE") { Description = "The CSV file (UTF-8, header line first)." };
        import.Options.Add(source);
        import.Arguments.Add(file);
        import.SetAction(async (parseResult, cancellationToken) =>
        {
            if (!ConnectionSettings.TryGetOwner(out var owner))
            {
                await Console.Error.WriteLineAsync(ConnectionSettings.OwnerMissingMessage);
                return 2;
            }

            var path = parseResult.GetValue(file)!;
            if (!path.Exists)
            {
                await Console.Error.WriteLineAsync($"{path.FullName}: no such file");
                return 1;
            }

            var operatorName = "cli:" + Environment.UserName;
            await using var connections = AppSqlConnections.Create(owner);
            await using var stream = path.OpenRead();
            var result = await new ConsentImporter(connections).ImportAsync(
                parseResult.GetValue(source)!, stream, path.Name, ConsentImporter.AuditAs(AuditActor.Service(operatorName)), operatorName, null, cancellationToken);
            if (result.Applied)
            {
                await Console.Out.WriteLineAsync(string.Create(
                    CultureInfo.InvariantCulture,
                    $"imported {result.Rows} consent records into source {result.Source} ({result.Granted} granted, {result.Withdrawn} withdrawn)"));
                return 0;
            }

            foreach (var error in result.Errors)
            {
                await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{path.Name}:{error.Line}: {error.Column}: {error.Reason}"));
            }

            var more = result.ErrorCount > result.Errors.Count ? $" (first {result.Errors.Count} shown)" : "";
            await Console.Error.WriteLineAsync(string.Create(
                CultureInfo.InvariantCulture, $"nothing imported: {result.ErrorCount} error(s){more}"));
            return 1;
        });
        consent.Subcommands.Add(import);
        return consent;
    }

    private static Command Audit()
    {
        var audit = new Command("audit", "The audit trail (app.audit_event).");
        var verify = new Command(
            "verify",
            "Recompute the hash chain of the whole audit trail and print its head (head: ID:HASH); exit 1 and say what is wrong " +
            "if an event does not match, the trail does not end at the recorded head, or the --anchor event is missing or different.");
        var anchorOption = new Option<string?>("--anchor")
        {
            Description = "ID:HASH of an event printed by an earlier verify and kept outside the database: fails if the trail no longer holds it.",
        };
        verify.Options.Add(anchorOption);
        verify.SetAction(async (parseResult, cancellationToken) =>
        {
            if (!ConnectionSettings.TryGetOwner(out var owner))
            {
                await Console.Error.WriteLineAsync(ConnectionSettings.OwnerMissingMessage);
                return 2;
            }

            AuditChainHead? anchor = null;
            if (parseResult.GetValue(anchorOption) is { } anchorText && !AuditChainHead.TryParse(anchorText, out anchor))
            {
                await Console.Error.WriteLineAsync(
                    $"--anchor {anchorText}: expected ID:HASH, a positive event id and its 64-digit hex hash, as a 'head:' line prints them");
                return 2;
            }

            await using var connection = new NpgsqlConnection(owner);
            await connection.OpenAsync(cancellationToken);
            // An unmigrated database is answered by the one top-level handler (Infrastructure/DatabaseErrors).
            var report = await AuditChain.VerifyAsync(connection, anchor, cancellationToken);
            return AuditChainOutput.Write(report, anchor, Console.Out, Console.Error);
        });
        audit.Subcommands.Add(verify);
        return audit;
    }
}
