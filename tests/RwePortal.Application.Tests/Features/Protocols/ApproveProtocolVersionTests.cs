using Dapper;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Protocols;
using RwePortal.Application.Security;
using RwePortal.Application.Tests.Infrastructure;
using RwePortal.Warehouse.Protocols;

namespace RwePortal.Application.Tests.Features.Protocols;

/// <summary>Approval by electronic signature, and the lock it puts on the version, in the slices and in the database.</summary>
[Collection(AppCollection.Name)]
public sealed class ApproveProtocolVersionTests(AppFixture fixture)
{
    [Fact]
    public async Task A_reviewer_signs_with_their_password_and_the_signature_records_name_time_meaning_and_the_content_hash()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        var id = await scenario.SubmittedAsync();
        await scenario.AsReviewerAsync();
        var before = await scenario.OwnerScalarAsync<DateTime>("SELECT now()");

        var signed = (await fixture.SendAsync(new ApproveProtocolVersion.Command(id, 1, DemoSeeder.Password, "Fit for purpose."))).Unwrap();

        // The model's own hash of the example, and the hash of the stored bytes computed here, are the signed hash.
        var modelHash = ProtocolCanonical.Hash(ProtocolParser.Parse(ProtocolScenario.Example()).Protocol!);
        var stored = await scenario.OwnerScalarAsync<string>("SELECT document FROM app.protocol_versions WHERE protocol_id = @id AND version = 1", new { id });
        Assert.Equal(modelHash, signed.ContentHash);
        Assert.Equal(ProtocolScenario.Sha256(stored), signed.ContentHash);
        Assert.Equal($"Test {scenario.ReviewerEmail}", signed.PrintedName);
        Assert.Equal(ProtocolSignature.ApprovedMeaning, signed.Meaning);
        Assert.InRange(signed.SignedAt.UtcDateTime, before.ToUniversalTime().AddSeconds(-1), DateTime.UtcNow.AddMinutes(1));
        var reviewer = await fixture.FindUserAsync(scenario.ReviewerEmail);
        var row = await scenario.OwnerScalarAsync<string>(
            "SELECT signer_id || '|' || printed_name || '|' || meaning || '|' || content_hash FROM app.protocol_signatures WHERE id = @id", new { id = signed.SignatureId });
        Assert.Equal($"{reviewer.Id}|Test {scenario.ReviewerEmail}|approved as protocol of record|{modelHash}", row);

        var protocol = (await fixture.SendAsync(new GetProtocol.Query(id))).Unwrap();
        Assert.Equal(ProtocolVersionState.Approved, protocol.Versions.Single().State);
        Assert.Equal(ProtocolReviewDecision.Approved, protocol.Versions.Single().Reviews.Single().Decision);
        Assert.Equal("Fit for purpose.", protocol.Versions.Single().Reviews.Single().Comment);
    }

    [Fact]
    public async Task The_author_cannot_approve_their_own_protocol()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        var id = await scenario.SubmittedAsync();

        // The author holds ApproveProtocols (a study lead) and knows their password: still refused.
        await scenario.AsAuthorAsync();
        var result = await fixture.SendAsync(new ApproveProtocolVersion.Command(id, 1, DemoSeeder.Password));

        ProtocolScenario.AssertFailed(result, "Protocol.AuthorCannotReview");
        ProtocolScenario.AssertFailed(await fixture.SendAsync(new RejectProtocolVersion.Command(id, 1, "no")), "Protocol.AuthorCannotReview");
        Assert.Equal(0L, await scenario.OwnerScalarAsync<long>(
            "SELECT count(*) FROM app.protocol_signatures s JOIN app.protocol_versions v ON v.id = s.version_id WHERE v.protocol_id = @id", new { id }));
        Assert.Equal("InReview", await scenario.OwnerScalarAsync<string>("SELECT state FROM app.protocol_versions WHERE protocol_id = @id", new { id }));
    }

    [Fact]
    public async Task A_co_author_who_saved_a_revision_cannot_approve_the_version()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        await scenario.AsAuthorAsync();
        var created = (await fixture.SendAsync(new CreateProtocol.Command("Co-authored", ProtocolScenario.Example()))).Unwrap();

        // The reviewer-to-be edits the draft, so they are an author of this version too.
        await scenario.AsReviewerAsync();
        (await fixture.SendAsync(new SaveProtocolDraft.Command(created.Id, 1, ProtocolScenario.Example()))).Unwrap();
        await scenario.AsAuthorAsync();
        (await fixture.SendAsync(new SubmitProtocolVersion.Command(created.Id, 1))).Unwrap();
        await scenario.AsReviewerAsync();

        ProtocolScenario.AssertFailed(await fixture.SendAsync(new ApproveProtocolVersion.Command(created.Id, 1, DemoSeeder.Password)), "Protocol.AuthorCannotReview");
    }

    [Fact]
    public async Task The_database_refuses_a_signature_or_review_by_an_author_even_as_the_app_role()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        var id = await scenario.SubmittedAsync();
        var author = await fixture.FindUserAsync(scenario.AuthorEmail);
        await using var app = await scenario.OpenAsAppAsync();
        var version = await app.QuerySingleAsync<(Guid Id, string Hash)>(
            "SELECT id, content_hash FROM app.protocol_versions WHERE protocol_id = @id AND version = 1", new { id });

        var signature = await Assert.ThrowsAsync<PostgresException>(() => app.ExecuteAsync(
            """
            INSERT INTO app.protocol_signatures (id, tenant_id, version_id, signer_id, printed_name, signed_at, meaning, content_hash)
            VALUES (gen_random_uuid(), @tenant, @version, @author, 'Author', now(), 'approved as protocol of record', @hash)
            """,
            new { tenant = scenario.TenantId, version = version.Id, author = author.Id, hash = version.Hash }));
        var review = await Assert.ThrowsAsync<PostgresException>(() => app.ExecuteAsync(
            """
            INSERT INTO app.protocol_reviews (id, tenant_id, version_id, reviewer_id, decision, comment, content_hash, decided_at)
            VALUES (gen_random_uuid(), @tenant, @version, @author, 'Approved', NULL, @hash, now())
            """,
            new { tenant = scenario.TenantId, version = version.Id, author = author.Id, hash = version.Hash }));

        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, signature.SqlState);
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, review.SqlState);

        // Nor can the app role approve without a signature by someone else.
        var approve = await Assert.ThrowsAsync<PostgresException>(() => app.ExecuteAsync(
            "UPDATE app.protocol_versions SET state = 'Approved' WHERE id = @id", new { id = version.Id }));
        Assert.Equal(PostgresErrorCodes.ObjectNotInPrerequisiteState, approve.SqlState);
    }

    [Fact]
    public async Task A_wrong_password_does_not_sign_and_is_audited()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        var id = await scenario.SubmittedAsync();
        await scenario.AsReviewerAsync();
        var reviewer = await fixture.FindUserAsync(scenario.ReviewerEmail);

        var result = await fixture.SendAsync(new ApproveProtocolVersion.Command(id, 1, DemoSeeder.Password + "x"));

        ProtocolScenario.AssertFailed(result, "Protocol.WrongPassword");
        Assert.Equal(0L, await scenario.OwnerScalarAsync<long>(
            "SELECT count(*) FROM app.protocol_signatures s JOIN app.protocol_versions v ON v.id = s.version_id WHERE v.protocol_id = @id", new { id }));
        Assert.Equal(0L, await scenario.OwnerScalarAsync<long>(
            "SELECT count(*) FROM app.protocol_reviews r JOIN app.protocol_versions v ON v.id = r.version_id WHERE v.protocol_id = @id", new { id }));
        Assert.Equal("InReview", await scenario.OwnerScalarAsync<string>("SELECT state FROM app.protocol_versions WHERE protocol_id = @id", new { id }));
        Assert.Equal(1L, await scenario.OwnerScalarAsync<long>(
            "SELECT count(*) FROM app.audit_event WHERE user_id = @user AND tenant_id = @tenant AND outcome = 'Protocol.WrongPassword' AND target = @target",
            new { user = reviewer.Id, tenant = scenario.TenantId, target = $"ApproveProtocolVersion: protocol {id} v1" }));

        // The wrong password counts towards lockout, as at sign-in.
        await using var scope = fixture.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        Assert.Equal(1, await users.GetAccessFailedCountAsync((await users.FindByIdAsync(reviewer.Id.ToString()))!));

        // The audit event never holds the password.
        Assert.Equal(0L, await scenario.OwnerScalarAsync<long>(
            "SELECT count(*) FROM app.audit_event WHERE position(@password IN coalesce(target, '') || details::text) > 0", new { password = DemoSeeder.Password }));
    }

    [Fact]
    public async Task Wrong_passwords_lock_the_signer_out_and_then_even_the_right_one_does_not_sign()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        var id = await scenario.SubmittedAsync();
        await scenario.AsReviewerAsync();
        var codes = new List<string>();
        for (var attempt = 0; attempt < 5; attempt++)
        {
            codes.Add((await fixture.SendAsync(new ApproveProtocolVersion.Command(id, 1, "guess" + attempt))).Error!.Code);
        }

        var rightPassword = await fixture.SendAsync(new ApproveProtocolVersion.Command(id, 1, DemoSeeder.Password));

        Assert.Equal(["Protocol.WrongPassword", "Protocol.WrongPassword", "Protocol.WrongPassword", "Protocol.WrongPassword", "Protocol.SignatureLockedOut"], codes);
        ProtocolScenario.AssertFailed(rightPassword, "Protocol.SignatureLockedOut");
        Assert.Equal("InReview", await scenario.OwnerScalarAsync<string>("SELECT state FROM app.protocol_versions WHERE protocol_id = @id", new { id }));
    }

    [Fact]
    public async Task A_signature_binds_the_content_hash()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        var id = await scenario.ApprovedAsync();
        var verified = (await fixture.SendAsync(new VerifyProtocolVersion.Query(id, 1))).Unwrap();
        Assert.True(verified.Intact);
        Assert.Equal(verified.StoredHash, verified.Signatures.Single().ContentHash);

        // Changing one byte of the stored content is refused, even as the app role with its password.
        await using (var app = await scenario.OpenAsAppAsync())
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => app.ExecuteAsync(
                "UPDATE app.protocol_versions SET document = replace(document, '\"maxDays\":730', '\"maxDays\":731') WHERE protocol_id = @id", new { id }));
            Assert.Equal(PostgresErrorCodes.ObjectNotInPrerequisiteState, refused.SqlState);
        }

        // Only an owner who turns the lock off can alter it, and the recomputed hash then no longer matches.
        var original = await scenario.OwnerScalarAsync<string>("SELECT document FROM app.protocol_versions WHERE protocol_id = @id", new { id });
        Assert.Contains("\"maxDays\":730", original);
        await fixture.OwnerSqlAsync("ALTER TABLE app.protocol_versions DISABLE TRIGGER protocol_versions_guard");
        try
        {
            await fixture.OwnerSqlAsync(
                $"""UPDATE app.protocol_versions SET document = replace(document, '"maxDays":730', '"maxDays":731') WHERE protocol_id = '{id}'""");
        }
        finally
        {
            await fixture.OwnerSqlAsync("ALTER TABLE app.protocol_versions ENABLE TRIGGER protocol_versions_guard");
        }

        var tampered = (await fixture.SendAsync(new VerifyProtocolVersion.Query(id, 1))).Unwrap();

        Assert.False(tampered.Intact);
        Assert.False(tampered.DocumentMatchesHash);
        Assert.False(tampered.Signatures.Single().Matches);
        Assert.Equal(verified.StoredHash, tampered.StoredHash);
        Assert.Equal(ProtocolScenario.Sha256(original.Replace("\"maxDays\":730", "\"maxDays\":731", StringComparison.Ordinal)), tampered.RecomputedHash);
    }

    [Fact]
    public async Task A_signature_on_another_hash_than_the_versions_is_refused_by_the_database()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        var id = await scenario.SubmittedAsync();
        var reviewer = await fixture.FindUserAsync(scenario.ReviewerEmail);
        await using var app = await scenario.OpenAsAppAsync();
        var version = await app.QuerySingleAsync<Guid>("SELECT id FROM app.protocol_versions WHERE protocol_id = @id", new { id });

        var refused = await Assert.ThrowsAsync<PostgresException>(() => app.ExecuteAsync(
            """
            INSERT INTO app.protocol_signatures (id, tenant_id, version_id, signer_id, printed_name, signed_at, meaning, content_hash)
            VALUES (gen_random_uuid(), @tenant, @version, @reviewer, 'Reviewer', now(), 'approved as protocol of record', repeat('0', 64))
            """,
            new { tenant = scenario.TenantId, version, reviewer = reviewer.Id }));

        Assert.Equal(PostgresErrorCodes.ObjectNotInPrerequisiteState, refused.SqlState);
    }

    [Fact]
    public async Task An_approved_version_cannot_be_changed_even_by_SQL_as_the_app_role()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        var id = await scenario.ApprovedAsync();
        var before = await scenario.OwnerScalarAsync<string>(
            "SELECT v.document || v.content_hash || v.state || s.content_hash || s.printed_name FROM app.protocol_versions v JOIN app.protocol_signatures s ON s.version_id = v.id WHERE v.protocol_id = @id",
            new { id });
        await using var app = await scenario.OpenAsAppAsync();

        // The rows are visible to the app role in its tenant, so each refusal below is the lock, not row-level security.
        Assert.Equal(1L, await app.ExecuteScalarAsync<long>("SELECT count(*) FROM app.protocol_versions WHERE protocol_id = @id", new { id }));
        Assert.Equal(1L, await app.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM app.protocol_signatures s JOIN app.protocol_versions v ON v.id = s.version_id WHERE v.protocol_id = @id", new { id }));

        string[] changes =
        [
            "UPDATE app.protocol_versions SET document = document || ' ' WHERE protocol_id = @id",
            "UPDATE app.protocol_versions SET content_hash = repeat('a', 64) WHERE protocol_id = @id",
            "UPDATE app.protocol_versions SET state = 'Draft', content_hash = NULL WHERE protocol_id = @id",
            "UPDATE app.protocol_versions SET state = 'Superseded', superseded_at = now(), superseded_by_version = 2 WHERE protocol_id = @id",
            "UPDATE app.protocol_versions SET revision = revision + 1 WHERE protocol_id = @id",
            "DELETE FROM app.protocol_versions WHERE protocol_id = @id",
            "UPDATE app.protocol_signatures SET content_hash = repeat('a', 64) WHERE version_id IN (SELECT id FROM app.protocol_versions WHERE protocol_id = @id)",
            "UPDATE app.protocol_signatures SET printed_name = 'Someone else' WHERE version_id IN (SELECT id FROM app.protocol_versions WHERE protocol_id = @id)",
            "DELETE FROM app.protocol_signatures WHERE version_id IN (SELECT id FROM app.protocol_versions WHERE protocol_id = @id)",
            "UPDATE app.protocol_reviews SET comment = 'changed' WHERE version_id IN (SELECT id FROM app.protocol_versions WHERE protocol_id = @id)",
            "DELETE FROM app.protocol_revisions WHERE version_id IN (SELECT id FROM app.protocol_versions WHERE protocol_id = @id)",
        ];
        foreach (var sql in changes)
        {
            await using var transaction = await app.BeginTransactionAsync();
            var refused = await Assert.ThrowsAsync<PostgresException>(() => app.ExecuteAsync(sql, new { id }, transaction));
            Assert.True(
                refused.SqlState is PostgresErrorCodes.ObjectNotInPrerequisiteState or PostgresErrorCodes.InsufficientPrivilege,
                $"{sql}: {refused.SqlState} {refused.MessageText}");
        }

        Assert.Equal(before, await scenario.OwnerScalarAsync<string>(
            "SELECT v.document || v.content_hash || v.state || s.content_hash || s.printed_name FROM app.protocol_versions v JOIN app.protocol_signatures s ON s.version_id = v.id WHERE v.protocol_id = @id",
            new { id }));

        // And the slices say so.
        await scenario.AsAuthorAsync();
        ProtocolScenario.AssertFailed(await fixture.SendAsync(new SaveProtocolDraft.Command(id, 1, ProtocolScenario.Example())), "Protocol.Locked");
        ProtocolScenario.AssertFailed(await fixture.SendAsync(new SubmitProtocolVersion.Command(id, 1)), "Protocol.Locked");
    }

    [Fact]
    public async Task A_tenant_admin_reviews_and_signs_with_a_second_factor_session()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        var id = await scenario.SubmittedAsync();
        var admin = AppFixture.UniqueEmail("admin");
        await fixture.CreateUserAsync(admin, scenario.TenantId, TenantRole.TenantAdmin);
        await fixture.SignInAsAsync(admin, secondFactor: true);

        var signed = (await fixture.SendAsync(new ApproveProtocolVersion.Command(id, 1, DemoSeeder.Password))).Unwrap();

        Assert.Equal($"Test {admin}", signed.PrintedName);
    }

    [Fact]
    public async Task An_analyst_can_read_but_not_approve()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        var id = await scenario.SubmittedAsync();
        var analyst = AppFixture.UniqueEmail("analyst");
        await fixture.CreateUserAsync(analyst, scenario.TenantId, TenantRole.Analyst);
        await fixture.SignInAsAsync(analyst);

        Assert.True((await fixture.SendAsync(new GetProtocol.Query(id))).Succeeded);
        ProtocolScenario.AssertFailed(await fixture.SendAsync(new ApproveProtocolVersion.Command(id, 1, DemoSeeder.Password)), "Auth.Forbidden");
        ProtocolScenario.AssertFailed(await fixture.SendAsync(new SaveProtocolDraft.Command(id, 1, ProtocolScenario.Example())), "Auth.Forbidden");
    }

    [Fact]
    public async Task Approving_a_later_version_supersedes_the_earlier_one_which_stays_locked()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        var id = await scenario.ApprovedAsync();
        await scenario.AsAuthorAsync();
        (await fixture.SendAsync(new AmendProtocol.Command(id, 1, "Extend follow-up to three years."))).Unwrap();
        var amended = ProtocolScenario.Edit(ProtocolScenario.Example(), root => root["followUp"]!["maxDays"] = 1095);
        (await fixture.SendAsync(new SaveProtocolDraft.Command(id, 2, amended))).Unwrap();
        (await fixture.SendAsync(new SubmitProtocolVersion.Command(id, 2))).Unwrap();
        await scenario.AsReviewerAsync();

        var signed = (await fixture.SendAsync(new ApproveProtocolVersion.Command(id, 2, DemoSeeder.Password))).Unwrap();

        Assert.Equal(1, signed.SupersededVersion);
        var protocol = (await fixture.SendAsync(new GetProtocol.Query(id))).Unwrap();
        Assert.Equal([ProtocolVersionState.Superseded, ProtocolVersionState.Approved], protocol.Versions.Select(v => v.State));
        Assert.Equal(2, protocol.Versions[0].SupersededByVersion);
        await using var app = await scenario.OpenAsAppAsync();
        var refused = await Assert.ThrowsAsync<PostgresException>(() => app.ExecuteAsync(
            "UPDATE app.protocol_versions SET state = 'Approved', superseded_at = NULL, superseded_by_version = NULL WHERE protocol_id = @id AND version = 1", new { id }));
        Assert.Equal(PostgresErrorCodes.ObjectNotInPrerequisiteState, refused.SqlState);
    }
}
