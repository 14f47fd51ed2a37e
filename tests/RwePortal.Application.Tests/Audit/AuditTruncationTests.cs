using Dapper;
using Npgsql;
using RwePortal.Application.Audit;

namespace RwePortal.Application.Tests.Audit;

/// <summary>
/// Cutting off or rewriting the newest events, as only the owner can (triggers disabled). The chain itself cannot show
/// a missing or consistently re-hashed tail; the recorded head shows a careless cut, and an anchor kept outside the
/// database shows any change up to its event.
/// </summary>
public sealed class AuditTruncationTests(AuditDatabase audit) : IClassFixture<AuditDatabase>
{
    private NpgsqlConnection Owner() => new(audit.Database.OwnerConnectionString);

    private async Task<AuditChainReport> VerifyAsync(AuditChainHead? anchor = null)
    {
        await using var owner = Owner();
        await owner.OpenAsync();
        return await AuditChain.VerifyAsync(owner, anchor, CancellationToken.None);
    }

    [Fact]
    public async Task A_cut_off_tail_is_caught_by_the_recorded_head_and_when_that_is_rewritten_too_by_the_anchor()
    {
        for (var i = 0; i < 6; i++)
        {
            await audit.Trail.RecordAsync(
                new AuditActor(Guid.NewGuid(), null, "operator@acme.test"), new AuditRecord(AuditEventTypes.Command, $"event {i}", "Success"));
        }

        var anchor = (await VerifyAsync()).Head!;
        await using (var owner = Owner())
        {
            await owner.ExecuteAsync(
                """
                ALTER TABLE app.audit_event DISABLE TRIGGER audit_event_append_only;
                DELETE FROM app.audit_event WHERE id > @cut;
                ALTER TABLE app.audit_event ENABLE TRIGGER audit_event_append_only;
                """,
                new { cut = anchor.Id - 2 });
        }

        var careless = await VerifyAsync();

        Assert.False(careless.Intact);
        Assert.Null(careless.FirstBreak);
        Assert.Contains($"records {anchor}", careless.HeadMismatch, StringComparison.Ordinal);

        // A thorough tamperer moves the head back to the new last event: the chain and the head then agree.
        await using (var owner = Owner())
        {
            await owner.ExecuteAsync(
                "UPDATE app.audit_chain_head h SET id = e.id, hash = e.hash FROM (SELECT id, hash FROM app.audit_event ORDER BY id DESC LIMIT 1) e");
        }

        var withoutAnchor = await VerifyAsync();
        var withAnchor = await VerifyAsync(anchor);

        Assert.True(withoutAnchor.Intact);
        Assert.Equal(anchor.Id - 2, withoutAnchor.Head!.Id);
        Assert.False(withAnchor.Intact);
        Assert.Null(withAnchor.FirstBreak);
        Assert.Contains($"anchor event {anchor.Id} is missing", withAnchor.AnchorMismatch, StringComparison.Ordinal);

        // What `rwe audit verify` prints and returns for each.
        var passed = Print(withoutAnchor, null);
        var failed = Print(withAnchor, anchor);

        Assert.Equal(0, passed.Code);
        Assert.Equal(
            [$"audit trail intact: {withoutAnchor.EventsVerified} events verified", $"head: {anchor.Id - 2}:{withoutAnchor.Head.Hash}"],
            passed.Out);
        Assert.Equal(1, failed.Code);
        Assert.Empty(failed.Out);
        Assert.Contains($"anchor event {anchor.Id} is missing: the trail ends at event {anchor.Id - 2}", failed.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rewritten_and_re_hashed_tail_with_a_matching_head_is_caught_only_by_the_anchor()
    {
        for (var i = 0; i < 4; i++)
        {
            await audit.Trail.RecordAsync(
                new AuditActor(Guid.NewGuid(), null, "operator@acme.test"), new AuditRecord(AuditEventTypes.Command, $"kept {i}", "Success"));
        }

        var anchor = (await VerifyAsync()).Head!;
        var from = anchor.Id - 1;
        await using (var owner = Owner())
        {
            // Change an event before the anchor, then re-hash it and everything after it, and move the head along.
            await owner.ExecuteAsync(
                $$"""
                ALTER TABLE app.audit_event DISABLE TRIGGER audit_event_append_only;
                DO $rewrite$
                DECLARE
                    r record;
                    prev bytea;
                BEGIN
                    UPDATE app.audit_event SET outcome = 'Denied' WHERE id = {{from}};
                    SELECT coalesce((SELECT hash FROM app.audit_event WHERE id < {{from}} ORDER BY id DESC LIMIT 1),
                                    decode(repeat('00', 32), 'hex')) INTO prev;
                    FOR r IN SELECT * FROM app.audit_event WHERE id >= {{from}} ORDER BY id LOOP
                        UPDATE app.audit_event
                        SET previous_hash = prev,
                            hash = sha256(prev || app.audit_canonical(r.id, r.occurred_at, r.tenant_id, r.user_id, r.user_email,
                                                                      r.event_type, r.target, r.outcome, r.details))
                        WHERE id = r.id
                        RETURNING hash INTO prev;
                    END LOOP;
                    UPDATE app.audit_chain_head SET hash = prev;
                END $rewrite$;
                ALTER TABLE app.audit_event ENABLE TRIGGER audit_event_append_only;
                """);
        }

        var withoutAnchor = await VerifyAsync();
        var withAnchor = await VerifyAsync(anchor);

        Assert.True(withoutAnchor.Intact, withoutAnchor.FirstBreak?.Reason ?? withoutAnchor.HeadMismatch);
        Assert.False(withAnchor.Intact);
        Assert.Contains($"event {anchor.Id} has hash", withAnchor.AnchorMismatch, StringComparison.Ordinal);
        Assert.Equal(1, Print(withAnchor, anchor).Code);
    }

    private static (int Code, string[] Out, string Err) Print(AuditChainReport report, AuditChainHead? anchor)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = AuditChainOutput.Write(report, anchor, stdout, stderr);
        return (code, stdout.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries), stderr.ToString());
    }
}
