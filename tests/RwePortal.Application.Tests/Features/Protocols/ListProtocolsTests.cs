using System.Text.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Protocols;
using RwePortal.Application.Security;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Features.Protocols;

[Collection(AppCollection.Name)]
public sealed class ListProtocolsTests(AppFixture fixture)
{
    [Fact]
    public async Task The_list_shows_each_protocol_of_the_tenant_with_its_latest_state_and_approved_version()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        var approved = await scenario.ApprovedAsync();
        await scenario.AsAuthorAsync();
        (await fixture.SendAsync(new AmendProtocol.Command(approved, 1, "Next version."))).Unwrap();
        var draft = (await fixture.SendAsync(new CreateProtocol.Command("Only a draft"))).Unwrap();

        var list = (await fixture.SendAsync(new ListProtocols.Query())).Unwrap();

        Assert.Equal(
            [(draft.Id, 1, ProtocolVersionState.Draft, (int?)null), (approved, 2, ProtocolVersionState.Draft, (int?)1)],
            list.Protocols.Select(p => (p.Id, p.LatestVersion, p.LatestState, p.ApprovedVersion)));
        Assert.All(list.Protocols, p => Assert.Equal($"Test {scenario.AuthorEmail}", p.CreatedBy));
    }

    [Fact]
    public async Task The_reader_is_told_what_they_may_do_with_the_version_and_the_approval_is_audited_with_its_signature()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        await scenario.AsAuthorAsync();
        var draft = (await fixture.SendAsync(new CreateProtocol.Command("Editable"))).Unwrap();
        var editable = (await fixture.SendAsync(new GetProtocol.Query(draft.Id))).Unwrap();
        Assert.Equal((false, true, false), (editable.CanReview, editable.CanEdit, editable.CanAmend));
        var id = await scenario.SubmittedAsync();
        var submitted = (await fixture.SendAsync(new GetProtocol.Query(id))).Unwrap();
        Assert.Equal((false, false, false), (submitted.CanReview, submitted.CanEdit, submitted.CanAmend));
        await scenario.AsReviewerAsync();
        Assert.True((await fixture.SendAsync(new GetProtocol.Query(id))).Unwrap().CanReview);

        var signed = (await fixture.SendAsync(new ApproveProtocolVersion.Command(id, 1, DemoSeeder.Password))).Unwrap();

        var afterApproval = (await fixture.SendAsync(new GetProtocol.Query(id))).Unwrap();
        Assert.Equal((false, false, true), (afterApproval.CanReview, afterApproval.CanEdit, afterApproval.CanAmend));
        var details = await scenario.OwnerScalarAsync<string>(
            "SELECT details::text FROM app.audit_event WHERE tenant_id = @tenant AND outcome = 'Success' AND target = @target",
            new { tenant = scenario.TenantId, target = $"ApproveProtocolVersion: protocol 'ARNI vs enalapril' ({id}) v1" });
        using var json = JsonDocument.Parse(details);
        Assert.Equal("InReview", json.RootElement.GetProperty("before").GetProperty("state").GetString());
        var after = json.RootElement.GetProperty("after");
        Assert.Equal("Approved", after.GetProperty("state").GetString());
        Assert.Equal(signed.ContentHash, after.GetProperty("content_hash").GetString());
        Assert.Equal(signed.SignatureId, after.GetProperty("signature").GetProperty("id").GetGuid());
        Assert.Equal("approved as protocol of record", after.GetProperty("signature").GetProperty("meaning").GetString());
    }

    [Fact]
    public async Task Two_reviewers_signing_at_once_make_one_approval_and_one_signature()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        var id = await scenario.SubmittedAsync();
        var second = AppFixture.UniqueEmail("second", "protocols.test");
        await fixture.CreateUserAsync(second, scenario.TenantId, TenantRole.StudyLead);
        var first = await fixture.SignInAsAsync(scenario.ReviewerEmail);
        var other = await fixture.SignInAsAsync(second);

        var results = await Task.WhenAll(
            SendAsAsync(first, new ApproveProtocolVersion.Command(id, 1, DemoSeeder.Password)),
            SendAsAsync(other, new ApproveProtocolVersion.Command(id, 1, DemoSeeder.Password)));

        Assert.Single(results, r => r.Succeeded);
        Assert.Equal("Protocol.NotInReview", Assert.Single(results, r => !r.Succeeded).Error!.Code);
        Assert.Equal(1L, await scenario.OwnerScalarAsync<long>(
            "SELECT count(*) FROM app.protocol_signatures s JOIN app.protocol_versions v ON v.id = s.version_id WHERE v.protocol_id = @id", new { id }));
    }

    private async Task<Result<ApproveProtocolVersion.Response>> SendAsAsync(UserContext user, ApproveProtocolVersion.Command command)
    {
        // Each request from a scope bound to its user, as two portal sessions would send them.
        await using var scope = fixture.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentUser>().Bind(user);
        return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(command);
    }
}
