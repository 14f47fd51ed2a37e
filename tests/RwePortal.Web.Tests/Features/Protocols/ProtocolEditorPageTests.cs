using System.Text.Json.Nodes;
using Bunit;
using MediatR;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Features.DataSources;
using RwePortal.Application.Features.Protocols;
using RwePortal.Web.Features.Protocols;
using RwePortal.Web.Tests.Features.Subgroups;

namespace RwePortal.Web.Tests.Features.Protocols;

/// <summary>The protocol editor: problems are marked on the step that has to change, and a save never overwrites another's revision.</summary>
public sealed class ProtocolEditorPageTests : BunitContext, IAsyncLifetime
{
    private readonly BuilderMediator _mediator = new();

    public ProtocolEditorPageTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IMediator>(_mediator);
        _mediator.Answer<ListGrantedDataSources.Query, Result<IReadOnlyList<ListGrantedDataSources.Item>>>(_ =>
            new List<ListGrantedDataSources.Item> { new(Guid.NewGuid(), "eunomia", "Eunomia", ["research"]) });
    }

    public Task InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    private IRenderedComponent<ProtocolEditorPage> Open(GetProtocol.Response protocol)
    {
        _mediator.Answer<GetProtocol.Query, Result<GetProtocol.Response>>(_ => protocol);
        Services.GetRequiredService<NavigationManager>().NavigateTo($"protocols/{ProtocolTestData.Id}/edit?v=1");
        Render<MudPopoverProvider>();
        Render<MudSnackbarProvider>();
        return Render<ProtocolEditorPage>(p => p.Add(x => x.Id, ProtocolTestData.Id));
    }

    [Fact]
    public void Components_the_save_reports_missing_are_marked_on_their_steps_with_the_messages()
    {
        var page = Open(ProtocolTestData.Protocol("""{"version": 1, "general": {"title": "Coxibs"}}"""));
        _mediator.Answer<SaveProtocolDraft.Command, Result<SaveProtocolDraft.Response>>(_ => new SaveProtocolDraft.Response(1, 4, ProtocolVersionState.Draft,
        [
            new ProtocolIssue("strategies", "strategies", "is required"),
            new ProtocolIssue("outcome", "outcome", "is required"),
        ]));

        page.Find("button[data-testid=editor-save]").Click();

        page.WaitForAssertion(() => Assert.Equal(["strategies", "outcome"], page.FindAll("[data-testid=step-error]").Select(c => c.GetAttribute("data-component"))));
        page.FindAll("[data-testid=step-error]")[0].Click();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=step-strategies]")));
        var step = page.Find("[data-testid=step-strategies]");
        Assert.Equal("true", step.GetAttribute("data-has-error"));
        Assert.Contains("is required", step.QuerySelector("[data-testid=step-errors]")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void An_inconsistent_component_found_by_the_check_marks_only_its_step()
    {
        var document = JsonNode.Parse(ProtocolTestData.Example())!.AsObject();
        document["followUp"]!["maxDays"] = -30;
        var page = Open(ProtocolTestData.Protocol(document.ToJsonString()));

        page.Find("button[data-testid=editor-check]").Click();

        page.WaitForAssertion(() => Assert.Equal(["followUp"], page.FindAll("[data-testid=step-error]").Select(c => c.GetAttribute("data-component")).Distinct()));
        page.Find("[data-testid=step-error]").Click();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=step-followUp]")));
        Assert.Contains("maxDays", page.Find("[data-testid=step-followUp] [data-testid=step-errors]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void The_complete_example_passes_the_check()
    {
        var page = Open(ProtocolTestData.Protocol(ProtocolTestData.Example()));

        page.Find("button[data-testid=editor-check]").Click();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=editor-complete]")));
        Assert.Empty(page.FindAll("[data-testid=step-error]"));
    }

    [Fact]
    public void Save_sends_the_loaded_revision_and_a_conflict_is_reported_not_overwritten()
    {
        var page = Open(ProtocolTestData.Protocol(ProtocolTestData.Example(), revision: 7));
        _mediator.Answer<SaveProtocolDraft.Command, Result<SaveProtocolDraft.Response>>(_ =>
            new Error("Protocol.Conflict", "Version 1 was saved by someone else since revision 7 (now 8); reload it."));

        page.Find("button[data-testid=editor-save]").Click();

        page.WaitForAssertion(() => Assert.Contains("saved by someone else", page.Find("[data-testid=editor-conflict]").TextContent, StringComparison.Ordinal));
        var sent = Assert.Single(_mediator.SentOf<SaveProtocolDraft.Command>());
        Assert.Equal((ProtocolTestData.Id, 1, 7), (sent.ProtocolId, sent.Version, sent.ExpectedRevision!.Value));
        Assert.Equal("7", page.Find("[data-testid=editor-revision]").GetAttribute("data-revision"));
    }

    [Fact]
    public void A_saved_revision_is_the_one_the_next_save_expects()
    {
        var page = Open(ProtocolTestData.Protocol(ProtocolTestData.Example(), revision: 2));
        _mediator.Answer<SaveProtocolDraft.Command, Result<SaveProtocolDraft.Response>>(c => new SaveProtocolDraft.Response(1, c.ExpectedRevision!.Value + 1, ProtocolVersionState.Draft, []));

        page.Find("button[data-testid=editor-save]").Click();
        page.WaitForAssertion(() => Assert.Equal("3", page.Find("[data-testid=editor-revision]").GetAttribute("data-revision")));
        page.Find("button[data-testid=editor-save]").Click();

        page.WaitForAssertion(() => Assert.Equal([2, 3], _mediator.SentOf<SaveProtocolDraft.Command>().Select(c => c.ExpectedRevision!.Value)));
    }

    [Fact]
    public void The_timeline_is_drawn_from_the_document()
    {
        var page = Open(ProtocolTestData.Protocol(ProtocolTestData.Example()));

        var timeline = page.Find("[data-testid=protocol-timeline]");
        Assert.Equal(("365", "0", "365"), (timeline.GetAttribute("data-washout"), timeline.GetAttribute("data-grace"), timeline.GetAttribute("data-max-days")));
        Assert.Equal(["90", "180", "365"], page.FindAll("[data-testid=timeline-horizon]").Select(h => h.GetAttribute("data-days")));
    }

    [Fact]
    public void The_timeline_follows_the_document_read_back_from_the_json_tab()
    {
        var page = Open(ProtocolTestData.Protocol(ProtocolTestData.Example()));
        var document = JsonNode.Parse(ProtocolTestData.Example())!.AsObject();
        document["strategies"]!["gracePeriodDays"] = 30;
        document["outcome"]!["blankingDays"] = 14;

        page.FindAll(".mud-tab").Single(t => t.TextContent.Trim() == "JSON").Click();
        page.Find("textarea[data-testid=editor-json], [data-testid=editor-json] textarea").Change(document.ToJsonString());
        page.Find("button[data-testid=editor-json-apply]").Click();

        page.WaitForAssertion(() => Assert.Equal(("30", "14"), (page.Find("[data-testid=protocol-timeline]").GetAttribute("data-grace"), page.Find("[data-testid=protocol-timeline]").GetAttribute("data-blanking"))));
    }

    [Fact]
    public void Eligibility_criteria_are_the_subgroup_builders_cards_and_a_removed_one_leaves_the_saved_document()
    {
        var document = JsonNode.Parse(ProtocolTestData.Example())!.AsObject();
        document["eligibility"]!["criteria"] = JsonNode.Parse("""
            [{"kind": "condition", "label": "heart failure", "concepts": [{"id": 316139, "descendants": true}], "window": {"end": 0}}]
            """);
        var page = Open(ProtocolTestData.Protocol(document.ToJsonString()));
        _mediator.Answer<SaveProtocolDraft.Command, Result<SaveProtocolDraft.Response>>(c => new SaveProtocolDraft.Response(1, 4, ProtocolVersionState.Draft, []));

        page.FindAll(".mud-step").First(e => e.TextContent.Contains("Eligibility", StringComparison.Ordinal)).Click();
        page.WaitForAssertion(() => Assert.Equal(["condition"], page.FindAll("[data-testid=criterion-card]").Select(c => c.GetAttribute("data-kind"))));
        page.Find("[data-testid=criterion-card] button[data-testid=criterion-remove]").Click();
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-testid=criterion-card]")));
        page.Find("button[data-testid=editor-save]").Click();

        page.WaitForAssertion(() => Assert.Single(_mediator.SentOf<SaveProtocolDraft.Command>()));
        var saved = JsonNode.Parse(_mediator.SentOf<SaveProtocolDraft.Command>().Single().Document)!;
        Assert.Null(saved["eligibility"]!["criteria"]);
        Assert.Equal(18, (int)saved["eligibility"]!["age"]!["min"]!);
    }

    [Fact]
    public void An_approved_version_opens_read_only()
    {
        var page = Open(ProtocolTestData.Protocol(ProtocolTestData.Example(), ProtocolVersionState.Approved, canEdit: false));

        Assert.NotNull(page.Find("[data-testid=editor-readonly]"));
        Assert.Empty(page.FindAll("[data-testid=editor-save]"));
    }
}
