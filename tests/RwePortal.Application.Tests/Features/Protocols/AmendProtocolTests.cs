using RwePortal.Application.Data;
using RwePortal.Application.Features.Protocols;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Features.Protocols;

[Collection(AppCollection.Name)]
public sealed class AmendProtocolTests(AppFixture fixture)
{
    [Fact]
    public async Task Amending_the_approved_version_opens_the_next_as_a_draft_with_the_reason_in_the_log()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        var id = await scenario.ApprovedAsync();
        await scenario.AsAuthorAsync();

        var amended = (await fixture.SendAsync(new AmendProtocol.Command(id, 1, "Add a negative-control outcome."))).Unwrap();

        Assert.Equal(2, amended.Version);
        var protocol = (await fixture.SendAsync(new GetProtocol.Query(id))).Unwrap();
        Assert.Equal([ProtocolVersionState.Approved, ProtocolVersionState.Draft], protocol.Versions.Select(v => v.State));
        var log = Assert.Single(protocol.Amendments);
        Assert.Equal((1, 2, "Add a negative-control outcome.", $"Test {scenario.AuthorEmail}"), (log.FromVersion, log.ToVersion, log.Reason, log.Author));

        // The new draft starts from the approved content.
        var v1 = (await fixture.SendAsync(new GetProtocol.Query(id, 1))).Unwrap();
        Assert.Equal(v1.Document, protocol.Document);
        Assert.Equal(2, protocol.ShownVersion);
    }

    [Fact]
    public async Task An_amendment_needs_a_reason_an_approved_version_and_no_other_open_version()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        var id = await scenario.ApprovedAsync();
        await scenario.AsAuthorAsync();

        ProtocolScenario.AssertFailed(await fixture.SendAsync(new AmendProtocol.Command(id, 1, "")), "Validation.Failed");
        (await fixture.SendAsync(new AmendProtocol.Command(id, 1, "First amendment."))).Unwrap();
        ProtocolScenario.AssertFailed(await fixture.SendAsync(new AmendProtocol.Command(id, 1, "Second at once.")), "Protocol.OpenVersion");
        ProtocolScenario.AssertFailed(await fixture.SendAsync(new AmendProtocol.Command(id, 2, "Amend a draft.")), "Protocol.NotApproved");
    }

    [Fact]
    public async Task The_amendments_log_is_append_only_for_the_app_role()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        var id = await scenario.ApprovedAsync();
        await scenario.AsAuthorAsync();
        (await fixture.SendAsync(new AmendProtocol.Command(id, 1, "Reason kept."))).Unwrap();
        await using var app = await scenario.OpenAsAppAsync();

        var refused = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => Dapper.SqlMapper.ExecuteAsync(
            app, "UPDATE app.protocol_amendments SET reason = 'rewritten' WHERE protocol_id = @id", new { id }));

        Assert.Equal(Npgsql.PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
    }
}
