using Dapper;
using Npgsql;
using RwePortal.Application.Audit;

namespace RwePortal.Application.Tests.Audit;

/// <summary>The trail is append-only for everyone and its hash chain exposes the first altered event.</summary>
public sealed class AuditChainTests(AuditDatabase audit) : IClassFixture<AuditDatabase>
{
    private NpgsqlConnection Owner() => new(audit.Database.OwnerConnectionString);

    private async Task<long> AppendAsync(string outcome, Dictionary<string, object?>? details = null, Guid? tenantId = null)
    {
        await audit.Trail.RecordAsync(
            new AuditActor(tenantId ?? Guid.NewGuid(), Guid.NewGuid(), "auditor@acme.test"),
            new AuditRecord(AuditEventTypes.Command, "Test target | with pipe", outcome, details));
        await using var connection = Owner();
        return await connection.ExecuteScalarAsync<long>("SELECT max(id) FROM app.audit_event");
    }

    private async Task<AuditChainReport> VerifyAsync()
    {
        await using var connection = Owner();
        await connection.OpenAsync();
        return await AuditChain.VerifyAsync(connection, CancellationToken.None);
    }

    [Fact]
    public async Task The_app_role_reads_its_tenants_events_but_cannot_update_delete_or_truncate()
    {
        var tenant = Guid.NewGuid();
        var id = await AppendAsync("Success", tenantId: tenant);
        await using var app = new NpgsqlConnection(audit.Database.AppConnectionString);
        await app.OpenAsync();
        await app.ExecuteAsync("SELECT set_config('rwe.tenant_id', @tenant, false)", new { tenant = tenant.ToString() });

        Assert.Equal(1, await app.ExecuteScalarAsync<long>("SELECT count(*) FROM app.audit_event WHERE id = @id", new { id }));
        foreach (var sql in new[]
        {
            "UPDATE app.audit_event SET outcome = 'Forged' WHERE id = @id",
            "DELETE FROM app.audit_event WHERE id = @id",
            "TRUNCATE app.audit_event",
        })
        {
            var error = await Assert.ThrowsAsync<PostgresException>(() => app.ExecuteAsync(sql, new { id }));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
        }
    }

    [Fact]
    public async Task Not_even_the_owner_chooses_an_id_the_identity_gives_them_all()
    {
        await AppendAsync("Success");
        await using var owner = Owner();

        var error = await Assert.ThrowsAsync<PostgresException>(() => owner.ExecuteAsync(
            """
            INSERT INTO app.audit_event (id, occurred_at, event_type, outcome, previous_hash, hash)
            VALUES (9000000000, now(), 'SignIn', 'Success', decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex'))
            """));

        Assert.Equal("428C9", error.SqlState); // generated_always: a value for an identity column that is GENERATED ALWAYS
    }

    [Fact]
    public async Task The_trigger_refuses_update_and_delete_even_for_the_owner()
    {
        var id = await AppendAsync("Success");
        await using var owner = Owner();

        var update = await Assert.ThrowsAsync<PostgresException>(() => owner.ExecuteAsync("UPDATE app.audit_event SET outcome = 'Forged' WHERE id = @id", new { id }));
        var delete = await Assert.ThrowsAsync<PostgresException>(() => owner.ExecuteAsync("DELETE FROM app.audit_event WHERE id = @id", new { id }));

        Assert.Contains("append-only", update.MessageText, StringComparison.Ordinal);
        Assert.Contains("append-only", delete.MessageText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_untouched_chain_verifies_and_one_altered_event_is_named_as_the_first_break()
    {
        await AppendAsync("Success", new Dictionary<string, object?> { ["note"] = "ünïcödé | \"quoted\" \n new line", ["n"] = 3.5 });
        var tampered = await AppendAsync("Success");
        await AppendAsync("Consent.UnknownPurpose");
        var before = await VerifyAsync();
        Assert.True(before.Intact, before.FirstBreak?.Reason);
        Assert.True(before.EventsVerified >= 3);

        // Tamper as the owner can: switch the trigger off, change the outcome, switch it back on.
        await using (var owner = Owner())
        {
            await owner.ExecuteAsync(
                """
                ALTER TABLE app.audit_event DISABLE TRIGGER audit_event_append_only;
                UPDATE app.audit_event SET outcome = 'Denied' WHERE id = @tampered;
                ALTER TABLE app.audit_event ENABLE TRIGGER audit_event_append_only;
                """,
                new { tampered });
        }

        var after = await VerifyAsync();

        Assert.False(after.Intact);
        Assert.Equal(tampered, after.FirstBreak!.Id);
        Assert.Contains("altered", after.FirstBreak.Reason, StringComparison.Ordinal);
        Assert.NotEqual(after.FirstBreak.ExpectedHash, after.FirstBreak.StoredHash);

        // Re-hashing the altered event moves the break to the next event's link, never hides it.
        await using (var owner = Owner())
        {
            await owner.ExecuteAsync(
                """
                ALTER TABLE app.audit_event DISABLE TRIGGER audit_event_append_only;
                UPDATE app.audit_event e SET hash = sha256(e.previous_hash || app.audit_canonical(
                    e.id, e.occurred_at, e.tenant_id, e.user_id, e.user_email, e.event_type, e.target, e.outcome, e.details))
                WHERE id = @tampered;
                ALTER TABLE app.audit_event ENABLE TRIGGER audit_event_append_only;
                """,
                new { tampered });
        }

        var rehashed = await VerifyAsync();
        Assert.False(rehashed.Intact);
        Assert.True(rehashed.FirstBreak!.Id > tampered);
        Assert.Contains("previous_hash", rehashed.FirstBreak.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_writers_line_up_on_one_chain()
    {
        // Its own database state is shared with the tamper test, so this checks links among its own events only.
        var first = await AppendAsync("Success");
        await Task.WhenAll(Enumerable.Range(0, 24).Select(i => AppendAsync($"Parallel {i}")));

        await using var owner = Owner();
        var rows = (await owner.QueryAsync<(long Id, byte[] Previous, byte[] Hash)>(
            "SELECT id, previous_hash, hash FROM app.audit_event WHERE id >= @first ORDER BY id", new { first })).ToList();
        Assert.True(rows.Count >= 25);
        for (var i = 1; i < rows.Count; i++)
        {
            Assert.Equal(rows[i - 1].Hash, rows[i].Previous);
        }

        Assert.Equal(rows.Count, rows.Select(r => Convert.ToHexString(r.Previous)).Distinct().Count());
    }
}
