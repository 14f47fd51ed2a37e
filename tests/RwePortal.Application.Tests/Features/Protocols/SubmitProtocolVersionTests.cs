using System.Text.Json;
using Dapper;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Protocols;
using RwePortal.Application.Tests.Infrastructure;
using RwePortal.Warehouse.Protocols;

namespace RwePortal.Application.Tests.Features.Protocols;

[Collection(AppCollection.Name)]
public sealed class SubmitProtocolVersionTests(AppFixture fixture)
{
    [Fact]
    public async Task An_incomplete_draft_is_not_submitted_and_the_errors_name_each_component()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        await scenario.AsAuthorAsync();
        var incomplete = ProtocolScenario.Edit(ProtocolScenario.Example(), root =>
        {
            root.Remove("outcome");
            root["followUp"]!.AsObject().Remove("maxDays");
        });
        var created = (await fixture.SendAsync(new CreateProtocol.Command("Incomplete", incomplete))).Unwrap();

        var submitted = (await fixture.SendAsync(new SubmitProtocolVersion.Command(created.Id, 1))).Unwrap();

        Assert.False(submitted.Submitted);
        Assert.Null(submitted.ContentHash);
        Assert.Contains(submitted.Errors, e => e.Component == "outcome");
        Assert.Contains(submitted.Errors, e => e.Component == "followUp" && e.Path.StartsWith("followUp", StringComparison.Ordinal));

        // What the draft was told is missing is what submission refused.
        Assert.Equal(created.Missing, submitted.Errors);
        Assert.Equal("Draft", await scenario.OwnerScalarAsync<string>("SELECT state FROM app.protocol_versions WHERE protocol_id = @id", new { id = created.Id }));
        Assert.Equal(1L, await scenario.OwnerScalarAsync<long>(
            "SELECT count(*) FROM app.audit_event WHERE tenant_id = @tenant AND outcome = 'Protocol.Incomplete' AND target = @target",
            new { tenant = scenario.TenantId, target = $"SubmitProtocolVersion: protocol {created.Id} v1" }));
    }

    [Fact]
    public async Task A_complete_draft_goes_to_review_holding_its_canonical_document_and_hash_and_is_fixed_there()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        await scenario.AsAuthorAsync();
        var created = (await fixture.SendAsync(new CreateProtocol.Command("Complete", ProtocolScenario.Example()))).Unwrap();
        Assert.Empty(created.Missing);

        var submitted = (await fixture.SendAsync(new SubmitProtocolVersion.Command(created.Id, 1))).Unwrap();

        var model = ProtocolParser.Parse(ProtocolScenario.Example()).Protocol!;
        Assert.True(submitted.Submitted);
        Assert.Equal(ProtocolCanonical.Hash(model), submitted.ContentHash);
        Assert.Equal(ProtocolCanonical.Json(model), await scenario.OwnerScalarAsync<string>(
            "SELECT document FROM app.protocol_versions WHERE protocol_id = @id", new { id = created.Id }));
        ProtocolScenario.AssertFailed(await fixture.SendAsync(new SaveProtocolDraft.Command(created.Id, 1, ProtocolScenario.Example())), "Protocol.InReview");
        ProtocolScenario.AssertFailed(await fixture.SendAsync(new SubmitProtocolVersion.Command(created.Id, 1)), "Protocol.InReview");

        // The database holds the content fixed too.
        await using var app = await scenario.OpenAsAppAsync();
        var refused = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => app.ExecuteAsync(
            "UPDATE app.protocol_versions SET document = document || ' ' WHERE protocol_id = @id", new { id = created.Id }));
        Assert.Equal(Npgsql.PostgresErrorCodes.ObjectNotInPrerequisiteState, refused.SqlState);

        // The change is on the audit trail with its before and after.
        var details = await scenario.OwnerScalarAsync<string>(
            "SELECT details::text FROM app.audit_event WHERE tenant_id = @tenant AND outcome = 'Success' AND target LIKE 'SubmitProtocolVersion: %' || @id || '%'",
            new { tenant = scenario.TenantId, id = created.Id.ToString() });
        using var json = JsonDocument.Parse(details);
        Assert.Equal("Draft", json.RootElement.GetProperty("before").GetProperty("state").GetString());
        Assert.Equal("InReview", json.RootElement.GetProperty("after").GetProperty("state").GetString());
        Assert.Equal(submitted.ContentHash, json.RootElement.GetProperty("after").GetProperty("content_hash").GetString());
    }

    [Fact]
    public async Task The_database_refuses_a_submission_whose_hash_is_not_the_documents()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        await scenario.AsAuthorAsync();
        var created = (await fixture.SendAsync(new CreateProtocol.Command("Forged", ProtocolScenario.Example()))).Unwrap();
        var author = await fixture.FindUserAsync(scenario.AuthorEmail);
        await using var app = await scenario.OpenAsAppAsync();

        var refused = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => app.ExecuteAsync(
            "UPDATE app.protocol_versions SET state = 'InReview', content_hash = repeat('b', 64), submitted_by = @author, submitted_at = now() WHERE protocol_id = @id",
            new { id = created.Id, author = author.Id }));

        Assert.Equal(Npgsql.PostgresErrorCodes.ObjectNotInPrerequisiteState, refused.SqlState);
        Assert.Equal(ProtocolVersionState.Draft.ToString(), await scenario.OwnerScalarAsync<string>(
            "SELECT state FROM app.protocol_versions WHERE protocol_id = @id", new { id = created.Id }));
    }
}
