using Bunit;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Protocols;
using RwePortal.Application.Security;
using RwePortal.Web.Components.Layout;
using RwePortal.Web.Features.Protocols;
using RwePortal.Web.Tests.Features.Subgroups;

namespace RwePortal.Web.Tests.Features.Protocols;

/// <summary>The protocols list and its navigation entry: readers read, only writers get New and Import.</summary>
public sealed class ProtocolsPageTests : BunitContext, IAsyncLifetime
{
    private readonly BuilderMediator _mediator = new();

    public ProtocolsPageTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IMediator>(_mediator);
        _mediator.Answer<ListProtocols.Query, Result<ListProtocols.Response>>(_ => new ListProtocols.Response(
        [
            new ListProtocols.Item(Guid.NewGuid(), "ARNI versus enalapril", 2, ProtocolVersionState.Draft, 1, "Study Lead", DateTimeOffset.UtcNow, false),
            new ListProtocols.Item(Guid.NewGuid(), "Coxibs", 1, ProtocolVersionState.InReview, null, "Study Lead", DateTimeOffset.UtcNow, true),
        ]));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    private static UserContext User(params TenantRole[] roles) =>
        new(Guid.NewGuid(), "user@acme.test", "User", false, Guid.NewGuid(), "Acme Pharma", roles);

    [Fact]
    public void Rows_show_the_latest_version_its_status_and_the_protocol_of_record()
    {
        Render<MudPopoverProvider>();
        var page = Render<ProtocolsPage>(p => p.AddCascadingValue(User(TenantRole.StudyLead)));

        var rows = page.FindAll("[data-testid=protocol-row]");
        Assert.Equal(["ARNI versus enalapril", "Coxibs"], rows.Select(r => r.GetAttribute("data-title")));
        Assert.Equal(["Draft", "InReview"], page.FindAll("[data-testid=protocol-state]").Select(c => c.GetAttribute("data-state")));
        Assert.Contains("v1", rows[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("none", rows[1].TextContent, StringComparison.Ordinal);
        Assert.NotEmpty(page.FindAll("button[data-testid=protocols-new]"));
        Assert.NotEmpty(page.FindAll("[data-testid=protocols-import]"));
    }

    [Fact]
    public void An_analyst_reads_protocols_but_gets_neither_new_nor_import()
    {
        Render<MudPopoverProvider>();
        var page = Render<ProtocolsPage>(p => p.AddCascadingValue(User(TenantRole.Analyst)));

        Assert.Equal(2, page.FindAll("[data-testid=protocol-row]").Count);
        Assert.Empty(page.FindAll("[data-testid=protocols-new]"));
        Assert.Empty(page.FindAll("[data-testid=protocols-import]"));
    }

    [Fact]
    public void The_navigation_offers_protocols_to_readers_of_protocols_only()
    {
        var lead = Render<NavMenu>(p => p.AddCascadingValue(User(TenantRole.StudyLead)));
        Assert.Equal("protocols", lead.Find("[data-testid=nav-protocols]").GetAttribute("href"));

        var outsider = Render<NavMenu>(p => p.AddCascadingValue(new UserContext(Guid.NewGuid(), "admin@rweportal.test", "Admin", true, null, null, [])));
        Assert.Empty(outsider.FindAll("[data-testid=nav-protocols]"));
    }

    [Fact]
    public void A_refusal_is_split_into_one_row_per_problem_with_its_node_path()
    {
        var issues = ProtocolIssueText.Split(
            "file: protocol.contentHash: does not match the document (its hash is ab12): the document was altered after export. strategies: document.strategies.treatment.concepts[0].id: must be a concept id.");

        Assert.Equal(
            [("file", "protocol.contentHash"), ("strategies", "document.strategies.treatment.concepts[0].id")],
            issues.Select(i => (i.Component, i.Path)));
        Assert.Equal("must be a concept id", issues[1].Message);
    }
}
