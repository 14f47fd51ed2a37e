using Dapper;
using Npgsql;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Protocols;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Features.Protocols;

[Collection(AppCollection.Name)]
public sealed class SaveProtocolDraftTests(AppFixture fixture)
{
    [Fact]
    public async Task Every_save_of_a_draft_is_a_revision_with_its_author_and_time_and_earlier_ones_stay()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        await scenario.AsAuthorAsync();
        var created = (await fixture.SendAsync(new CreateProtocol.Command("Revisions"))).Unwrap();
        var second = ProtocolScenario.Edit(ProtocolScenario.Example(), root => root.Remove("analysisPlan"));

        var saved = (await fixture.SendAsync(new SaveProtocolDraft.Command(created.Id, 1, second, ExpectedRevision: 1))).Unwrap();
        await scenario.AsReviewerAsync();
        var third = (await fixture.SendAsync(new SaveProtocolDraft.Command(created.Id, 1, ProtocolScenario.Example(), ExpectedRevision: 2, Title: "Revisions, renamed"))).Unwrap();

        Assert.Equal(2, saved.Revision);
        Assert.Contains(saved.Missing, m => m.Component == "analysisPlan");
        Assert.Equal(3, third.Revision);
        Assert.Empty(third.Missing);
        var protocol = (await fixture.SendAsync(new GetProtocol.Query(created.Id))).Unwrap();
        Assert.Equal("Revisions, renamed", protocol.Title);
        Assert.Equal(
            [(1, $"Test {scenario.AuthorEmail}"), (2, $"Test {scenario.AuthorEmail}"), (3, $"Test {scenario.ReviewerEmail}")],
            protocol.Versions.Single().Revisions.Select(r => (r.Revision, r.Author)));
        Assert.Equal(ProtocolScenario.Example(), protocol.Document);

        // The revisions hold each document as saved.
        await using var owner = new NpgsqlConnection(fixture.Database.OwnerConnectionString);
        await owner.OpenAsync();
        var documents = (await owner.QueryAsync<string>(
            "SELECT r.document FROM app.protocol_revisions r JOIN app.protocol_versions v ON v.id = r.version_id WHERE v.protocol_id = @id ORDER BY r.revision",
            new { id = created.Id })).ToList();
        Assert.Equal(second, documents[1]);
        Assert.Equal(ProtocolScenario.Example(), documents[2]);
    }

    [Fact]
    public async Task A_save_over_someone_elses_newer_revision_is_refused()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        await scenario.AsAuthorAsync();
        var created = (await fixture.SendAsync(new CreateProtocol.Command("Conflict", ProtocolScenario.Example()))).Unwrap();
        (await fixture.SendAsync(new SaveProtocolDraft.Command(created.Id, 1, ProtocolScenario.Example(), ExpectedRevision: 1))).Unwrap();

        ProtocolScenario.AssertFailed(
            await fixture.SendAsync(new SaveProtocolDraft.Command(created.Id, 1, ProtocolScenario.Example(), ExpectedRevision: 1)), "Protocol.Conflict");
    }

    [Fact]
    public async Task A_draft_that_is_not_a_protocol_is_refused_with_its_node_path()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        await scenario.AsAuthorAsync();
        var created = (await fixture.SendAsync(new CreateProtocol.Command("Bad"))).Unwrap();
        var wrongType = ProtocolScenario.Edit(ProtocolScenario.Example(), root => root["followUp"]!["maxDays"] = "two years");

        var result = await fixture.SendAsync(new SaveProtocolDraft.Command(created.Id, 1, wrongType));
        var notJson = await fixture.SendAsync(new SaveProtocolDraft.Command(created.Id, 1, "{\"version\": 1,"));

        ProtocolScenario.AssertFailed(result, "Protocol.Invalid");
        Assert.Contains("followUp.maxDays", result.Error!.Message, StringComparison.Ordinal);
        ProtocolScenario.AssertFailed(notJson, "Protocol.Invalid");
        Assert.Equal(1L, await scenario.OwnerScalarAsync<long>(
            "SELECT count(*) FROM app.protocol_revisions r JOIN app.protocol_versions v ON v.id = r.version_id WHERE v.protocol_id = @id", new { id = created.Id }));
    }

    [Fact]
    public async Task A_crafted_document_nested_beyond_the_limit_or_too_long_is_refused_without_an_exception()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        await scenario.AsAuthorAsync();
        var created = (await fixture.SendAsync(new CreateProtocol.Command("Crafted"))).Unwrap();
        var deep = "{\"version\":1,\"general\":{\"title\":\"x\",\"objective\":" + new string('[', 200) + new string(']', 200) + "}}";
        var long_ = "{\"version\":1,\"general\":{\"title\":\"" + new string('x', 600_000) + "\"}}";

        ProtocolScenario.AssertFailed(await fixture.SendAsync(new SaveProtocolDraft.Command(created.Id, 1, deep)), "Protocol.Invalid");
        ProtocolScenario.AssertFailed(await fixture.SendAsync(new SaveProtocolDraft.Command(created.Id, 1, long_)), "Validation.Failed");
        ProtocolScenario.AssertFailed(await fixture.SendAsync(new ImportProtocol.Command(deep)), "Protocol.Invalid");
    }

    [Fact]
    public async Task Revisions_are_append_only_for_the_app_role()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        await scenario.AsAuthorAsync();
        var created = (await fixture.SendAsync(new CreateProtocol.Command("Append only", ProtocolScenario.Example()))).Unwrap();
        await using var app = await scenario.OpenAsAppAsync();
        Assert.Equal(1L, await app.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM app.protocol_revisions r JOIN app.protocol_versions v ON v.id = r.version_id WHERE v.protocol_id = @id", new { id = created.Id }));

        foreach (var sql in new[]
        {
            "UPDATE app.protocol_revisions SET document = '{}' WHERE version_id IN (SELECT id FROM app.protocol_versions WHERE protocol_id = @id)",
            "DELETE FROM app.protocol_revisions WHERE version_id IN (SELECT id FROM app.protocol_versions WHERE protocol_id = @id)",
        })
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => app.ExecuteAsync(sql, new { id = created.Id }));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        }
    }

    [Fact]
    public async Task The_app_role_cannot_change_a_draft_without_saving_a_revision_of_it()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        await scenario.AsAuthorAsync();
        var created = (await fixture.SendAsync(new CreateProtocol.Command("Unrevised", ProtocolScenario.Example()))).Unwrap();
        var author = await fixture.FindUserAsync(scenario.AuthorEmail);
        await using var app = await scenario.OpenAsAppAsync();

        // Content changed in place: refused when the transaction commits.
        await using (var transaction = await app.BeginTransactionAsync())
        {
            Assert.Equal(1, await app.ExecuteAsync(
                "UPDATE app.protocol_versions SET document = '{\"version\":1}' WHERE protocol_id = @id", new { id = created.Id }, transaction));
            var refused = await Assert.ThrowsAsync<PostgresException>(() => transaction.CommitAsync());
            Assert.Equal(PostgresErrorCodes.ObjectNotInPrerequisiteState, refused.SqlState);
        }

        // The same change with its revision commits.
        await using (var transaction = await app.BeginTransactionAsync())
        {
            await app.ExecuteAsync(
                """
                UPDATE app.protocol_versions SET document = '{"version":1}', revision = 2 WHERE protocol_id = @id;
                INSERT INTO app.protocol_revisions (id, tenant_id, version_id, revision, document, author_id, saved_at)
                SELECT gen_random_uuid(), tenant_id, id, 2, document, @author, now() FROM app.protocol_versions WHERE protocol_id = @id;
                """,
                new { id = created.Id, author = author.Id },
                transaction);
            await transaction.CommitAsync();
        }

        Assert.Equal("{\"version\":1}", await scenario.OwnerScalarAsync<string>(
            "SELECT document FROM app.protocol_versions WHERE protocol_id = @id", new { id = created.Id }));
    }

    [Fact]
    public async Task A_rejected_version_saved_again_is_a_draft_and_can_then_be_approved()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        var id = await scenario.SubmittedAsync();
        await scenario.AsReviewerAsync();
        var rejected = (await fixture.SendAsync(new RejectProtocolVersion.Command(id, 1, "State the grace period explicitly."))).Unwrap();
        Assert.Equal(ProtocolVersionState.Rejected, rejected.State);
        ProtocolScenario.AssertFailed(await fixture.SendAsync(new ApproveProtocolVersion.Command(id, 1, DemoSeeder.Password)), "Protocol.NotInReview");

        await scenario.AsAuthorAsync();
        ProtocolScenario.AssertFailed(await fixture.SendAsync(new SubmitProtocolVersion.Command(id, 1)), "Protocol.Rejected");
        var revised = ProtocolScenario.Edit(ProtocolScenario.Example(), root => root["strategies"]!["gracePeriodDays"] = 7);
        var saved = (await fixture.SendAsync(new SaveProtocolDraft.Command(id, 1, revised))).Unwrap();
        Assert.Equal(ProtocolVersionState.Draft, saved.State);
        (await fixture.SendAsync(new SubmitProtocolVersion.Command(id, 1))).Unwrap();
        await scenario.AsReviewerAsync();
        (await fixture.SendAsync(new ApproveProtocolVersion.Command(id, 1, DemoSeeder.Password))).Unwrap();

        var protocol = (await fixture.SendAsync(new GetProtocol.Query(id))).Unwrap();
        var version = protocol.Versions.Single();
        Assert.Equal(ProtocolVersionState.Approved, version.State);
        Assert.Equal([ProtocolReviewDecision.Rejected, ProtocolReviewDecision.Approved], version.Reviews.Select(r => r.Decision));
        Assert.Equal("State the grace period explicitly.", version.Reviews[0].Comment);
        Assert.NotEqual(version.Reviews[0].ContentHash, version.Reviews[1].ContentHash);
        Assert.Contains("\"gracePeriodDays\":7", protocol.Document, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rejection_needs_a_comment()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        var id = await scenario.SubmittedAsync();
        await scenario.AsReviewerAsync();

        ProtocolScenario.AssertFailed(await fixture.SendAsync(new RejectProtocolVersion.Command(id, 1, "  ")), "Validation.Failed");
    }
}
