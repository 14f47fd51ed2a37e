using System.Data;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace RwePortal.Application.Audit;

/// <summary>
/// The result of walking the chain: how many events matched and the event the trail ends at, or what is wrong: the
/// first event that does not match (<paramref name="FirstBreak"/>), an end that is not the recorded chain head
/// (<paramref name="HeadMismatch"/>), or an anchor the trail no longer contains (<paramref name="AnchorMismatch"/>).
/// </summary>
public sealed record AuditChainReport(
    long EventsVerified,
    AuditChainBreak? FirstBreak,
    AuditChainHead? Head = null,
    string? HeadMismatch = null,
    string? AnchorMismatch = null)
{
    public bool Intact => FirstBreak is null && HeadMismatch is null && AnchorMismatch is null;
}

/// <summary>
/// The first event whose stored hash is not what its content and its predecessor give. <paramref name="Reason"/>
/// says whether its own content changed (the hashes are its hash) or its link to the previous event is broken, an
/// event removed or re-hashed before it (the hashes are its previous_hash).
/// </summary>
public sealed record AuditChainBreak(long Id, DateTimeOffset OccurredAt, string Reason, string ExpectedHash, string StoredHash);

/// <summary>
/// An event id and its hash (64 lower-case hex digits), written <c>ID:HASH</c>: the head of the trail as
/// <c>rwe audit verify</c> prints it, and the anchor an operator keeps outside the database and verifies against.
/// </summary>
public sealed record AuditChainHead(long Id, string Hash)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Id}:{Hash}");

    /// <summary>Reads <c>ID:HASH</c> (a positive decimal id, a colon, 64 hex digits in either case).</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out AuditChainHead? anchor)
    {
        anchor = null;
        var parts = (text ?? "").Trim().Split(':');
        if (parts.Length != 2
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            || id <= 0
            || parts[1].Length != 64
            || !parts[1].All(char.IsAsciiHexDigit))
        {
            return false;
        }

        anchor = new AuditChainHead(id, parts[1].ToLowerInvariant());
        return true;
    }
}

/// <summary>
/// The hash chain of app.audit_event (docs/audit.md): hash = SHA-256(previous_hash || canonical bytes), with 32
/// zero bytes before the first event. The database computes it on append; this class recomputes it here,
/// independently of the database's functions, to verify.
/// </summary>
public static class AuditChain
{
    /// <summary>The previous hash of the first event.</summary>
    public static ReadOnlyMemory<byte> Genesis { get; } = new byte[32];

    /// <summary>
    /// The canonical bytes of an event: nine fields in this order, each as <c>&lt;UTF-8 byte length&gt;:&lt;value&gt;|</c>,
    /// a null as <c>~|</c>. id in decimal; occurred_at in UTC as <c>yyyy-MM-ddTHH:mm:ss.ffffffZ</c>; uuids in lower-case
    /// 8-4-4-4-12 form; details as PostgreSQL renders the jsonb value (<c>details::text</c>).
    /// </summary>
    public static byte[] Canonical(
        long id,
        DateTimeOffset occurredAt,
        Guid? tenantId,
        Guid? userId,
        string? userEmail,
        string eventType,
        string? target,
        string outcome,
        string detailsJson)
    {
        var text = new StringBuilder();
        Field(text, id.ToString(CultureInfo.InvariantCulture));
        Field(text, occurredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
        Field(text, tenantId?.ToString("D"));
        Field(text, userId?.ToString("D"));
        Field(text, userEmail);
        Field(text, eventType);
        Field(text, target);
        Field(text, outcome);
        Field(text, detailsJson);
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>SHA-256 of the previous hash followed by the canonical bytes.</summary>
    public static byte[] Hash(ReadOnlySpan<byte> previousHash, ReadOnlySpan<byte> canonical)
    {
        var buffer = new byte[previousHash.Length + canonical.Length];
        previousHash.CopyTo(buffer);
        canonical.CopyTo(buffer.AsSpan(previousHash.Length));
        return SHA256.HashData(buffer);
    }

    /// <summary>
    /// Walks every event in id order and recomputes its hash from its content and the hash of the event before it,
    /// stopping at the first mismatch; then checks that the trail ends at the chain head the append function keeps
    /// (app.audit_chain_head), and, given an <paramref name="anchor"/> kept outside the database, that the trail still
    /// holds that event with that hash (a cut-off tail with a rewritten head is caught only this way). Reads in one
    /// read-only snapshot with one streaming query, so memory stays flat on long trails. Runs as the owner role.
    /// </summary>
    public static async Task<AuditChainReport> VerifyAsync(
        NpgsqlConnection connection, AuditChainHead? anchor, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        await using (var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", connection, transaction))
        {
            await readOnly.ExecuteNonQueryAsync(cancellationToken);
        }

        AuditChainHead recordedHead;
        await using (var head = new NpgsqlCommand("SELECT id, hash FROM app.audit_chain_head", connection, transaction))
        await using (var headReader = await head.ExecuteReaderAsync(cancellationToken))
        {
            recordedHead = await headReader.ReadAsync(cancellationToken)
                ? new AuditChainHead(headReader.GetInt64(0), Convert.ToHexStringLower(headReader.GetFieldValue<byte[]>(1)))
                : new AuditChainHead(-1, "(no row)");
        }

        const string Sql = """
            SELECT id, occurred_at, tenant_id, user_id, user_email, event_type, target, outcome, details::text,
                   previous_hash, hash
            FROM app.audit_event
            ORDER BY id
            """;
        await using var command = new NpgsqlCommand(Sql, connection, transaction) { CommandTimeout = 0 };
        await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken);
        var expectedPrevious = Genesis.ToArray();
        long verified = 0;
        long lastId = 0;
        string? anchorFound = null;
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetInt64(0);
            var occurredAt = new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc));
            var canonical = Canonical(
                id,
                occurredAt,
                reader.IsDBNull(2) ? null : reader.GetGuid(2),
                reader.IsDBNull(3) ? null : reader.GetGuid(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.GetString(7),
                reader.GetString(8));
            var storedPrevious = reader.GetFieldValue<byte[]>(9);
            var stored = reader.GetFieldValue<byte[]>(10);
            var expected = Hash(expectedPrevious, canonical);

            if (!storedPrevious.AsSpan().SequenceEqual(expectedPrevious))
            {
                return new AuditChainReport(verified, new AuditChainBreak(
                    id, occurredAt, "its previous_hash is not the hash of the event before it (an event was removed or re-hashed)",
                    Convert.ToHexStringLower(expectedPrevious), Convert.ToHexStringLower(storedPrevious)));
            }

            if (!stored.AsSpan().SequenceEqual(expected))
            {
                return new AuditChainReport(verified, new AuditChainBreak(
                    id, occurredAt, "its content does not give its stored hash (the event was altered)",
                    Convert.ToHexStringLower(expected), Convert.ToHexStringLower(stored)));
            }

            if (anchor is not null && id == anchor.Id)
            {
                anchorFound = Convert.ToHexStringLower(stored);
            }

            expectedPrevious = stored;
            lastId = id;
            verified++;
        }

        var end = new AuditChainHead(lastId, Convert.ToHexStringLower(expectedPrevious));
        var headMismatch = end == recordedHead
            ? null
            : string.Create(
                CultureInfo.InvariantCulture,
                $"the trail ends at {end} but the chain head (app.audit_chain_head) records {recordedHead}: events were removed from the end, or the head was changed");
        var anchorMismatch = anchor switch
        {
            null => null,
            _ when anchorFound is null && anchor.Id > lastId => string.Create(
                CultureInfo.InvariantCulture,
                $"anchor event {anchor.Id} is missing: the trail ends at event {lastId} (the newest events were removed)"),
            _ when anchorFound is null => string.Create(
                CultureInfo.InvariantCulture, $"anchor event {anchor.Id} is missing from the trail (it ends at event {lastId})"),
            _ when anchorFound != anchor.Hash => string.Create(
                CultureInfo.InvariantCulture,
                $"event {anchor.Id} has hash {anchorFound}, not the anchor's {anchor.Hash} (the trail was rewritten from that event or before)"),
            _ => null,
        };
        // The read-only snapshot ends with the transaction's disposal (a rollback: nothing was written).
        return new AuditChainReport(verified, null, end, headMismatch, anchorMismatch);
    }

    /// <summary>Walks the chain and checks its head, without an anchor (see the overload).</summary>
    public static Task<AuditChainReport> VerifyAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        VerifyAsync(connection, null, cancellationToken);

    private static void Field(StringBuilder text, string? value)
    {
        if (value is null)
        {
            text.Append("~|");
            return;
        }

        text.Append(Encoding.UTF8.GetByteCount(value).ToString(CultureInfo.InvariantCulture)).Append(':').Append(value).Append('|');
    }
}

/// <summary>
/// What <c>rwe audit verify</c> prints for a report, and its exit code: 0 with <c>head: ID:HASH</c> when the trail is
/// intact (and holds the anchor, if one was given), 1 with what is wrong otherwise.
/// </summary>
public static class AuditChainOutput
{
    public static int Write(AuditChainReport report, AuditChainHead? anchor, TextWriter stdout, TextWriter stderr)
    {
        if (report.FirstBreak is { } broken)
        {
            stderr.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"audit trail BROKEN at event {broken.Id} (occurred_at {broken.OccurredAt:yyyy-MM-dd HH:mm:ss.ffffff} UTC): {broken.Reason}"));
            stderr.WriteLine($"  expected {broken.ExpectedHash}");
            stderr.WriteLine($"  stored   {broken.StoredHash}");
            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{report.EventsVerified} events before it verified"));
            return 1;
        }

        if (!report.Intact)
        {
            stderr.WriteLine(string.Create(
                CultureInfo.InvariantCulture, $"audit trail TRUNCATED or rewritten: {report.EventsVerified} events chain correctly, but"));
            foreach (var problem in new[] { report.HeadMismatch, report.AnchorMismatch }.OfType<string>())
            {
                stderr.WriteLine("  " + problem);
            }

            return 1;
        }

        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"audit trail intact: {report.EventsVerified} events verified"));
        stdout.WriteLine($"head: {report.Head}");
        if (anchor is not null)
        {
            stdout.WriteLine($"anchor {anchor} found");
        }

        return 0;
    }
}
