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

/// <summary>The consent models of gov.consent_model: how a source's people are counted for a purpose.</summary>
public static class ConsentModels
{
    /// <summary>Only people whose decision in force is a grant (the default of a source and purpose with no model set).</summary>
    public const string OptIn = "opt_in";

    /// <summary>Everyone in the source unless their decision in force is a withdrawal.</summary>
    public const string OptOut = "opt_out";

    /// <summary>No per-person consent needed (e.g. an IRB waiver, de-identified data), under a reference; withdrawals are still honoured.</summary>
    public const string Waiver = "waiver";

    public static IReadOnlyList<string> All { get; } = [OptIn, OptOut, Waiver];

    /// <summary>How a model reads in the portal ("opt-in", "opt-out", "waiver").</summary>
    public static string Label(string model) => model.Replace('_', '-');

    /// <summary>The model as the page states it: "waiver (IRB-2024-117)", "opt-in".</summary>
    public static string Describe(string model, string? reference) =>
        model == Waiver && !string.IsNullOrWhiteSpace(reference) ? $"{Label(model)} ({reference})" : Label(model);
}

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

    /// <summary>
    /// Begins a transaction whose row-level security works for <paramref name="tenantId"/> (rwe.tenant_id, local to
    /// the transaction): the portal's role then sees and appends consent only of sources that tenant is custodian of.
    /// </summary>
    public static async Task<NpgsqlTransaction> BeginForTenantAsync(NpgsqlConnection connection, Guid? tenantId, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "SELECT set_config('rwe.tenant_id', @tenant, true)",
            new { tenant = tenantId?.ToString() ?? "" },
            transaction,
            Timeout,
            cancellationToken: cancellationToken));
        return transaction;
    }

    /// <summary>The custodian tenant of a registered source, or null (unknown source or none named yet).</summary>
    public static async Task<Guid?> CustodianAsync(NpgsqlConnection connection, string source, CancellationToken cancellationToken) =>
        await connection.ExecuteScalarAsync<Guid?>(new CommandDefinition(
            "SELECT custodian_tenant_id FROM app.data_sources WHERE name = @source",
            new { source },
            commandTimeout: Timeout,
            cancellationToken: cancellationToken));

    /// <summary>The database's today, the day every consent decision is judged on.</summary>
    public static async Task<DateOnly> TodayAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        DateOnly.FromDateTime(await connection.ExecuteScalarAsync<DateTime>(new CommandDefinition(
            "SELECT current_date::timestamp", commandTimeout: Timeout, cancellationToken: cancellationToken)));

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

    /// <summary>
    /// Appends records inside the caller's transaction in one INSERT from arrays; returns how many. (gov.consent has
    /// row-level security, and PostgreSQL refuses COPY FROM into such a table.)
    /// </summary>
    public static async Task<long> AppendAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        string source,
        string recordedBy,
        IReadOnlyList<ConsentEntry> entries,
        CancellationToken cancellationToken)
    {
        if (entries.Count == 0)
        {
            return 0;
        }

        await using var command = new NpgsqlCommand(
            """
            INSERT INTO gov.consent (source, person_id, purpose, status, effective_from, effective_to, recorded_by, reason)
            SELECT @source, r.person_id, r.purpose, r.status, r.effective_from, r.effective_to, @recordedBy, r.reason
            FROM unnest(@personIds, @purposes, @statuses, @froms, @tos, @reasons)
                 AS r (person_id, purpose, status, effective_from, effective_to, reason)
            """,
            connection,
            transaction)
        {
            CommandTimeout = 0,
        };
        command.Parameters.AddWithValue("source", source);
        command.Parameters.AddWithValue("recordedBy", recordedBy);
        command.Parameters.AddWithValue("personIds", entries.Select(e => e.PersonId).ToArray());
        command.Parameters.AddWithValue("purposes", entries.Select(e => e.Purpose).ToArray());
        command.Parameters.AddWithValue("statuses", entries.Select(e => e.Status).ToArray());
        command.Parameters.Add(new NpgsqlParameter("froms", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Date)
        {
            Value = entries.Select(e => e.EffectiveFrom).ToArray(),
        });
        command.Parameters.Add(new NpgsqlParameter("tos", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Date)
        {
            Value = entries.Select(e => e.EffectiveTo is { } to ? (object)to : DBNull.Value).ToArray(),
        });
        command.Parameters.Add(new NpgsqlParameter("reasons", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text)
        {
            Value = entries.Select(e => e.Reason is { Length: > 0 } reason ? (object)reason : DBNull.Value).ToArray(),
        });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
