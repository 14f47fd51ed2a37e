using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace RwePortal.Application.Audit;

/// <summary>The result of walking the chain: how many events matched, or the first one that did not.</summary>
public sealed record AuditChainReport(long EventsVerified, AuditChainBreak? FirstBreak)
{
    public bool Intact => FirstBreak is null;
}

/// <summary>
/// The first event whose stored hash is not what its content and its predecessor give. <paramref name="Reason"/>
/// says whether its own content changed (the hashes are its hash) or its link to the previous event is broken, an
/// event removed or re-hashed before it (the hashes are its previous_hash).
/// </summary>
public sealed record AuditChainBreak(long Id, DateTimeOffset OccurredAt, string Reason, string ExpectedHash, string StoredHash);

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
    /// Walks every event in id order and recomputes its hash from its content and the hash of the event before it.
    /// Stops at the first mismatch. Reads with one streaming query, so memory stays flat on long trails.
    /// </summary>
    public static async Task<AuditChainReport> VerifyAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        const string Sql = """
            SELECT id, occurred_at, tenant_id, user_id, user_email, event_type, target, outcome, details::text,
                   previous_hash, hash
            FROM app.audit_event
            ORDER BY id
            """;
        await using var command = new NpgsqlCommand(Sql, connection) { CommandTimeout = 0 };
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellationToken);
        var expectedPrevious = Genesis.ToArray();
        long verified = 0;
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

            expectedPrevious = stored;
            verified++;
        }

        return new AuditChainReport(verified, null);
    }

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
