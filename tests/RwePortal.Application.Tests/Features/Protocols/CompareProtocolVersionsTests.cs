using RwePortal.Application.Data;
using RwePortal.Application.Features.Protocols;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Features.Protocols;

[Collection(AppCollection.Name)]
public sealed class CompareProtocolVersionsTests(AppFixture fixture)
{
    [Fact]
    public async Task The_diff_names_the_changed_component_and_its_changed_lines_only()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        var id = await scenario.ApprovedAsync();
        await scenario.AsAuthorAsync();
        (await fixture.SendAsync(new AmendProtocol.Command(id, 1, "Three years of follow-up."))).Unwrap();
        var amended = ProtocolScenario.Edit(ProtocolScenario.Example(), root => root["followUp"]!["maxDays"] = 1095);
        (await fixture.SendAsync(new SaveProtocolDraft.Command(id, 2, amended))).Unwrap();

        var diff = (await fixture.SendAsync(new CompareProtocolVersions.Query(id, 1, 2))).Unwrap();

        Assert.True(diff.Changed);
        Assert.Equal(["followUp"], diff.Components.Where(c => c.Changed).Select(c => c.Component));
        Assert.Equal(
            ["general", "eligibility", "strategies", "assignment", "timeZero", "followUp", "outcome", "contrast", "analysisPlan"],
            diff.Components.Select(c => c.Component));
        var followUp = diff.Components.Single(c => c.Component == "followUp");
        var deleted = Assert.Single(followUp.Lines, l => l.Change == CompareProtocolVersions.LineChange.Deleted);
        var inserted = Assert.Single(followUp.Lines, l => l.Change == CompareProtocolVersions.LineChange.Inserted);
        Assert.Equal("\"maxDays\": 730", deleted.Text.Trim().TrimEnd(','));
        Assert.Equal("\"maxDays\": 1095", inserted.Text.Trim().TrimEnd(','));
        Assert.Equal(deleted.FromLine, inserted.ToLine);
        Assert.All(diff.Components.Where(c => !c.Changed), c => Assert.All(c.Lines, l => Assert.Equal(CompareProtocolVersions.LineChange.Unchanged, l.Change)));

        // A version compared with itself has no change at all.
        Assert.False((await fixture.SendAsync(new CompareProtocolVersions.Query(id, 2, 2))).Unwrap().Changed);
    }

    [Fact]
    public async Task A_component_added_in_the_later_version_is_all_inserted_lines()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        await scenario.AsAuthorAsync();
        var partial = ProtocolScenario.Edit(ProtocolScenario.Example(), root => root.Remove("contrast"));
        var created = (await fixture.SendAsync(new CreateProtocol.Command("Growing", partial))).Unwrap();
        (await fixture.SendAsync(new SaveProtocolDraft.Command(created.Id, 1, ProtocolScenario.Example()))).Unwrap();
        (await fixture.SendAsync(new SubmitProtocolVersion.Command(created.Id, 1))).Unwrap();
        await scenario.AsReviewerAsync();
        (await fixture.SendAsync(new ApproveProtocolVersion.Command(created.Id, 1, DemoSeeder.Password))).Unwrap();
        await scenario.AsAuthorAsync();
        (await fixture.SendAsync(new AmendProtocol.Command(created.Id, 1, "Back to the partial draft."))).Unwrap();
        (await fixture.SendAsync(new SaveProtocolDraft.Command(created.Id, 2, partial))).Unwrap();

        var diff = (await fixture.SendAsync(new CompareProtocolVersions.Query(created.Id, 2, 1))).Unwrap();

        var contrast = Assert.Single(diff.Components, c => c.Changed);
        Assert.Equal("contrast", contrast.Component);
        Assert.All(contrast.Lines, l => Assert.Equal(CompareProtocolVersions.LineChange.Inserted, l.Change));
    }
}
