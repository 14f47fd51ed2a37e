using Dapper;
using Npgsql;
using RwePortal.Application.Audit;

namespace RwePortal.Application.Consent;

/// <summary>A purpose people consent to (gov.consent_purpose). Inactive purposes keep their history but take no new records.</summary>
public sealed record ConsentPurpose(string Code, string Label, string Description, bool Active);

/// <summary>A person of a data source, as the look-up found them.</summary>
public sealed record SourcePerson(long PersonId, string? PersonSourceValue);

/// <summary>One consent record to append to gov.consent.</summary>
public sealed record ConsentEntry(long PersonId, string Purpose, string Status, DateOnly EffectiveFrom, DateOnly? EffectiveTo, string? Reason);

/// <summary>The statuses of gov.consent.</summary>
public static class ConsentStatuses
{
    public const string Granted = "granted";
    public const string Withdrawn = "withdrawn";

    public static IReadOnlyList<string> All { get; } = [Granted, Withdrawn];
}

/// <summary>The SQL the consent slices and the importer share (app role, Dapper).</summary>
internal static class ConsentRegistry
{
    private const int Timeout = AppSqlConnections.CommandTimeoutSeconds;

    public static async Task<IReadOnlyList<ConsentPurpose>> PurposesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync<ConsentPurpose>(new CommandDefinition(
            """
            SELECT code AS Code, label AS Label, description AS Description, active AS Active
            FROM gov.consent_purpose
            ORDER BY sort_order, code
            """,
            commandTimeout: Timeout,
            cancellationToken: cancellationToken));
        return rows.ToList();
    }

    public static async Task<bool> SourceExistsAsync(NpgsqlConnection connection, string source, CancellationToken cancellationToken) =>
        await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM app.data_sources WHERE name = @source)",
            new { source },
            commandTimeout: Timeout,
            cancellationToken: cancellationToken));

    /// <summary>The persons of <paramref name="source"/> among the given ids and source values (gov.find_persons).</summary>
    public static async Task<IReadOnlyList<SourcePerson>> FindPersonsAsync(
        NpgsqlConnection connection,
        string source,
        IReadOnlyCollection<long> personIds,
        IReadOnlyCollection<string> sourceValues,
        CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync<SourcePerson>(new CommandDefinition(
            """
            SELECT person_id AS PersonId, person_source_value AS PersonSourceValue
            FROM gov.find_persons(@source, @personIds, @sourceValues)
            """,
            new { source, personIds = personIds.ToArray(), sourceValues = sourceValues.ToArray() },
            commandTimeout: Timeout,
            cancellationToken: cancellationToken));
        return rows.ToList();
    }

    /// <summary>Appends one record inside the caller's transaction; returns its consent_id.</summary>
    public static async Task<long> InsertAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        string source,
        string recordedBy,
        ConsentEntry entry,
        CancellationToken cancellationToken) =>
        await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            """
            INSERT INTO gov.consent (source, person_id, purpose, status, effective_from, effective_to, recorded_by, reason)
            VALUES (@source, @personId, @purpose, @status, CAST(@effectiveFrom AS date), CAST(@effectiveTo AS date), @recordedBy, @reason)
            RETURNING consent_id
            """,
            new
            {
                source,
                personId = entry.PersonId,
                purpose = entry.Purpose,
                status = entry.Status,
                effectiveFrom = entry.EffectiveFrom,
                effectiveTo = entry.EffectiveTo,
                recordedBy,
                reason = entry.Reason,
            },
            transaction,
            Timeout,
            cancellationToken: cancellationToken));

    /// <summary>Appends records with binary COPY inside the caller's transaction; returns how many.</summary>
    public static async Task<long> AppendAsync(
        NpgsqlConnection connection,
        string source,
        string recordedBy,
        IEnumerable<ConsentEntry> entries,
        CancellationToken cancellationToken)
    {
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY gov.consent (source, person_id, purpose, status, effective_from, effective_to, recorded_by, reason) FROM STDIN (FORMAT BINARY)",
            cancellationToken);
        foreach (var entry in entries)
        {
            await writer.StartRowAsync(cancellationToken);
            await writer.WriteAsync(source, NpgsqlTypes.NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(entry.PersonId, NpgsqlTypes.NpgsqlDbType.Bigint, cancellationToken);
            await writer.WriteAsync(entry.Purpose, NpgsqlTypes.NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(entry.Status, NpgsqlTypes.NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(entry.EffectiveFrom, NpgsqlTypes.NpgsqlDbType.Date, cancellationToken);
            if (entry.EffectiveTo is { } to)
            {
                await writer.WriteAsync(to, NpgsqlTypes.NpgsqlDbType.Date, cancellationToken);
            }
            else
            {
                await writer.WriteNullAsync(cancellationToken);
            }

            await writer.WriteAsync(recordedBy, NpgsqlTypes.NpgsqlDbType.Text, cancellationToken);
            if (entry.Reason is { Length: > 0 } reason)
            {
                await writer.WriteAsync(reason, NpgsqlTypes.NpgsqlDbType.Text, cancellationToken);
            }
            else
            {
                await writer.WriteNullAsync(cancellationToken);
            }
        }

        return (long)await writer.CompleteAsync(cancellationToken);
    }
}
