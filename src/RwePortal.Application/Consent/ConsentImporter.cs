using System.Globalization;
using System.Security.Cryptography;
using CsvHelper;
using Npgsql;
using RwePortal.Application.Audit;

namespace RwePortal.Application.Consent;

/// <summary>What is wrong with a CSV file, where: line 1 is the header; column as named in the header.</summary>
public sealed record ConsentImportError(int Line, string Column, string Reason)
{
    public override string ToString() => $"line {Line}, {Column}: {Reason}";
}

/// <summary>
/// The outcome of an import: applied (all rows in one transaction) or rejected (nothing applied) with its errors.
/// <see cref="Errors"/> lists at most <see cref="ConsentImporter.MaxListedErrors"/>; <see cref="ErrorCount"/> counts all.
/// </summary>
public sealed record ConsentImportResult(
    string Source,
    int Rows,
    bool Applied,
    int Granted,
    int Withdrawn,
    IReadOnlyList<ConsentImportError> Errors,
    int ErrorCount) : IAuditOutcome
{
    public string AuditOutcome => Applied ? AuditOutcomes.Success : AuditOutcomes.Rejected;
}

/// <summary>
/// Writes an applied import's ConsentChanged event inside the import's transaction, under the source's custodian tenant
/// (null: the actor's own). The portal passes its request's audit trail, so the command is on the trail once.
/// </summary>
public delegate Task ConsentImportAudit(
    NpgsqlConnection connection, NpgsqlTransaction transaction, AuditRecord record, Guid? custodianTenantId, CancellationToken cancellationToken);

/// <summary>
/// Imports consent records from CSV for one data source, for the command line and the portal alike. The whole file
/// is validated first (columns, purposes, statuses, dates, that each person exists in the source); any error
/// rejects the whole file. A valid file is appended in one transaction together with its ConsentChanged audit event.
/// Columns: person_id or person_source_value, purpose, status, effective_from, effective_to (optional), reason (optional).
/// </summary>
public sealed class ConsentImporter(AppSqlConnections connections)
{
    public const int MaxListedErrors = 200;

    public const int MaxReasonLength = 500;

    private const string PersonId = "person_id";
    private const string PersonSourceValue = "person_source_value";
    private const string Purpose = "purpose";
    private const string Status = "status";
    private const string EffectiveFrom = "effective_from";
    private const string EffectiveTo = "effective_to";
    private const string Reason = "reason";

    private static readonly string[] KnownColumns = [PersonId, PersonSourceValue, Purpose, Status, EffectiveFrom, EffectiveTo, Reason];

    /// <summary>The audit of an import made by <paramref name="actor"/> outside a portal request (the command line).</summary>
    public static ConsentImportAudit AuditAs(AuditActor actor) =>
        (connection, transaction, record, custodian, cancellationToken) =>
            AuditLog.AppendAsync(connection, transaction, actor with { TenantId = custodian ?? actor.TenantId }, record, cancellationToken);

    /// <summary>
    /// Validates and, when valid, applies the file. <paramref name="recordedBy"/> goes to gov.consent.recorded_by.
    /// <paramref name="sessionTenantId"/> is the tenant row-level security works for (the portal: the custodian; the
    /// owner role of the command line needs none). The audit event carries the source's custodian tenant.
    /// </summary>
    public async Task<ConsentImportResult> ImportAsync(
        string source,
        Stream csv,
        string fileName,
        ConsentImportAudit audit,
        string recordedBy,
        Guid? sessionTenantId,
        CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await csv.CopyToAsync(buffer, cancellationToken);
        var fileHash = Convert.ToHexStringLower(SHA256.HashData(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)));
        buffer.Position = 0;

        await using var connection = await connections.OpenAsync(cancellationToken);
        var errors = new List<ConsentImportError>();
        if (!await ConsentRegistry.SourceExistsAsync(connection, source, cancellationToken))
        {
            errors.Add(new ConsentImportError(0, "source", $"data source '{source}' is not registered"));
            return Rejected(source, 0, errors);
        }

        var purposes = (await ConsentRegistry.PurposesAsync(connection, cancellationToken)).ToDictionary(p => p.Code, StringComparer.Ordinal);
        var today = await ConsentRegistry.TodayAsync(connection, cancellationToken);
        var rows = Parse(buffer, purposes, today, errors);

        // Every person must exist in the source: one look-up for the whole file.
        var ids = rows.Where(r => r.PersonId is not null).Select(r => r.PersonId!.Value).Distinct().ToList();
        var values = rows.Where(r => r.PersonSourceValue is not null).Select(r => r.PersonSourceValue!).Distinct(StringComparer.Ordinal).ToList();
        var found = await ConsentRegistry.FindPersonsAsync(connection, source, ids, values, cancellationToken);
        var knownIds = found.Select(p => p.PersonId).ToHashSet();
        var bySourceValue = found.Where(p => p.PersonSourceValue is not null)
            .GroupBy(p => p.PersonSourceValue!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(p => p.PersonId).Distinct().ToList(), StringComparer.Ordinal);

        var entries = new List<ConsentEntry>(rows.Count);
        foreach (var row in rows.Where(r => r.PersonId is not null || r.PersonSourceValue is not null))
        {
            long personId;
            if (row.PersonId is { } id)
            {
                if (!knownIds.Contains(id))
                {
                    errors.Add(new ConsentImportError(row.Line, PersonId, $"person {id} does not exist in source '{source}'"));
                    continue;
                }

                personId = id;
            }
            else if (bySourceValue.TryGetValue(row.PersonSourceValue!, out var matches) && matches.Count == 1)
            {
                personId = matches[0];
            }
            else
            {
                errors.Add(new ConsentImportError(row.Line, PersonSourceValue, matches is null
                    ? $"no person with source value '{row.PersonSourceValue}' in source '{source}'"
                    : $"source value '{row.PersonSourceValue}' matches {matches.Count} persons in source '{source}'"));
                continue;
            }

            if (row.Valid)
            {
                entries.Add(new ConsentEntry(personId, row.Purpose!, row.Status!, row.EffectiveFrom!.Value, row.EffectiveTo, row.Reason));
            }
        }

        if (errors.Count > 0)
        {
            return Rejected(source, rows.Count, errors);
        }

        var granted = entries.Count(e => e.Status == ConsentStatuses.Granted);
        var withdrawn = entries.Count - granted;
        var custodian = await ConsentRegistry.CustodianAsync(connection, source, cancellationToken);
        await using var transaction = await ConsentRegistry.BeginForTenantAsync(connection, sessionTenantId, cancellationToken);
        await ConsentRegistry.AppendAsync(connection, transaction, source, recordedBy, entries, cancellationToken);
        await audit(
            connection,
            transaction,
            new AuditRecord(AuditEventTypes.ConsentChanged, $"{source}: import {fileName}", AuditOutcomes.Success, new Dictionary<string, object?>
            {
                ["source"] = source,
                ["file"] = fileName,
                ["file_sha256"] = fileHash,
                ["rows"] = entries.Count,
                ["granted"] = granted,
                ["withdrawn"] = withdrawn,
            }),
            custodian,
            cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new ConsentImportResult(source, entries.Count, true, granted, withdrawn, [], 0);
    }

    private static ConsentImportResult Rejected(string source, int rows, List<ConsentImportError> errors)
    {
        var ordered = errors.OrderBy(e => e.Line).ThenBy(e => Array.IndexOf(KnownColumns, e.Column)).ToList();
        return new ConsentImportResult(source, rows, false, 0, 0, ordered.Take(MaxListedErrors).ToList(), ordered.Count);
    }

    private static List<ParsedRow> Parse(Stream csv, Dictionary<string, ConsentPurpose> purposes, DateOnly today, List<ConsentImportError> errors)
    {
        var rows = new List<ParsedRow>();
        var options = new CsvReaderOptions
        {
            HasHeader = true,
            TrackLineNumbers = true,
            SkipEmptyLines = true,
            TrimWhitespace = true,
            FieldCountMismatch = CsvFieldCountHandling.Allow,
            MissingField = CsvMissingFieldHandling.ReturnEmpty,
            MalformedData = CsvMalformedDataHandling.Throw,
            FormatProvider = CultureInfo.InvariantCulture,
        };
        using var reader = CsvReader.Create(csv, options, leaveOpen: true);
        try
        {
            ParseRecords(reader, rows, purposes, today, errors);
        }
        catch (CsvFormatException e)
        {
            errors.Add(new ConsentImportError((int)e.LineNumber, "record", $"malformed CSV: {e.Message}"));
        }

        return rows;
    }

    private static void ParseRecords(
        CsvReader parser,
        List<ParsedRow> rows,
        Dictionary<string, ConsentPurpose> purposes,
        DateOnly today,
        List<ConsentImportError> errors)
    {
        var hasRecord = parser.Read();
        var header = parser.Headers.Select(h => h.Trim().ToLowerInvariant()).ToArray();
        if (header.Length == 0)
        {
            errors.Add(new ConsentImportError(1, "header", "the file is empty: expected a header line"));
            return;
        }

        foreach (var unknown in header.Where(h => !KnownColumns.Contains(h, StringComparer.Ordinal)))
        {
            errors.Add(new ConsentImportError(1, unknown, $"unknown column (expected {string.Join(", ", KnownColumns)})"));
        }

        foreach (var duplicate in header.GroupBy(h => h, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            errors.Add(new ConsentImportError(1, duplicate.Key, "column appears more than once"));
        }

        var hasPersonId = header.Contains(PersonId);
        var hasSourceValue = header.Contains(PersonSourceValue);
        if (!hasPersonId && !hasSourceValue)
        {
            errors.Add(new ConsentImportError(1, PersonId, "missing column: person_id or person_source_value"));
        }

        foreach (var required in new[] { Purpose, Status, EffectiveFrom }.Where(c => !header.Contains(c)))
        {
            errors.Add(new ConsentImportError(1, required, "missing column"));
        }

        if (errors.Count > 0)
        {
            return;
        }

        string? Field(string column)
        {
            var index = Array.IndexOf(header, column);
            if (index < 0 || index >= parser.FieldCount)
            {
                return null;
            }

            var value = parser.GetString(index).Trim();
            return value.Length == 0 ? null : value;
        }

        for (; hasRecord; hasRecord = parser.Read())
        {
            var line = (int)parser.LineNumber;
            var row = new ParsedRow(line);
            var errorsBefore = errors.Count;

            var idText = hasPersonId ? Field(PersonId) : null;
            var sourceValue = hasSourceValue ? Field(PersonSourceValue) : null;
            if (idText is not null)
            {
                if (long.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0)
                {
                    row.PersonId = id;
                }
                else
                {
                    errors.Add(new ConsentImportError(line, PersonId, $"'{idText}' is not a person id (a positive whole number)"));
                }
            }
            else if (sourceValue is not null)
            {
                row.PersonSourceValue = sourceValue;
            }
            else
            {
                errors.Add(new ConsentImportError(line, hasPersonId ? PersonId : PersonSourceValue, "empty: every line names a person"));
            }

            var purpose = Field(Purpose);
            if (purpose is null)
            {
                errors.Add(new ConsentImportError(line, Purpose, "empty"));
            }
            else if (!purposes.TryGetValue(purpose, out var known))
            {
                errors.Add(new ConsentImportError(line, Purpose, $"unknown purpose '{purpose}' (expected one of {string.Join(", ", purposes.Keys)})"));
            }
            else if (!known.Active)
            {
                errors.Add(new ConsentImportError(line, Purpose, $"purpose '{purpose}' is not active"));
            }
            else
            {
                row.Purpose = purpose;
            }

            var status = Field(Status)?.ToLowerInvariant();
            if (status is null || !ConsentStatuses.All.Contains(status, StringComparer.Ordinal))
            {
                errors.Add(new ConsentImportError(line, Status, $"'{Field(Status)}' is not a status (expected granted or withdrawn)"));
            }
            else
            {
                row.Status = status;
            }

            row.EffectiveFrom = Date(Field(EffectiveFrom), line, EffectiveFrom, required: true, errors);
            row.EffectiveTo = Date(Field(EffectiveTo), line, EffectiveTo, required: false, errors);
            if (row.EffectiveFrom is { } from && row.EffectiveTo is { } to && to < from)
            {
                errors.Add(new ConsentImportError(line, EffectiveTo, $"{to:yyyy-MM-dd} is before effective_from {from:yyyy-MM-dd}"));
            }

            if (row.EffectiveFrom is { } withdrawnFrom && withdrawnFrom > today && status == ConsentStatuses.Withdrawn)
            {
                errors.Add(new ConsentImportError(line, EffectiveFrom, $"{withdrawnFrom:yyyy-MM-dd} is after today: a withdrawal applies from the day it is recorded"));
            }

            if (row.EffectiveTo is not null && status == ConsentStatuses.Withdrawn)
            {
                errors.Add(new ConsentImportError(line, EffectiveTo, "a withdrawal has no end date (record a new grant instead)"));
            }

            row.Reason = Field(Reason);
            if (row.Reason is { Length: > MaxReasonLength })
            {
                errors.Add(new ConsentImportError(line, Reason, $"longer than {MaxReasonLength} characters"));
            }

            row.Valid = errors.Count == errorsBefore;
            rows.Add(row);
        }
    }

    private static DateOnly? Date(string? text, int line, string column, bool required, List<ConsentImportError> errors)
    {
        if (text is null)
        {
            if (required)
            {
                errors.Add(new ConsentImportError(line, column, "empty: a date as yyyy-mm-dd is required"));
            }

            return null;
        }

        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return date;
        }

        errors.Add(new ConsentImportError(line, column, $"'{text}' is not a date as yyyy-mm-dd"));
        return null;
    }

    private sealed class ParsedRow(int line)
    {
        public int Line { get; } = line;

        public long? PersonId { get; set; }

        public string? PersonSourceValue { get; set; }

        public string? Purpose { get; set; }

        public string? Status { get; set; }

        public DateOnly? EffectiveFrom { get; set; }

        public DateOnly? EffectiveTo { get; set; }

        public string? Reason { get; set; }

        public bool Valid { get; set; }
    }
}
