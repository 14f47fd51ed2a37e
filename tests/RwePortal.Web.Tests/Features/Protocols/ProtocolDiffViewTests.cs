using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;
using RwePortal.Application.Features.Protocols;
using RwePortal.Web.Features.Protocols;
using static RwePortal.Application.Features.Protocols.CompareProtocolVersions;

namespace RwePortal.Web.Tests.Features.Protocols;

/// <summary>The side-by-side diff: deletions on the left in red, insertions on the right in green, unchanged text collapsed.</summary>
public sealed class ProtocolDiffViewTests : BunitContext, IAsyncLifetime
{
    public ProtocolDiffViewTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    private static List<DiffLine> Same(int from, int to, int count) =>
        Enumerable.Range(0, count).Select(i => new DiffLine(LineChange.Unchanged, from + i, to + i, $"  \"line{from + i}\": {i},")).ToList();

    [Fact]
    public void A_changed_line_faces_its_replacement_and_long_unchanged_runs_are_collapsed()
    {
        var lines = Same(1, 1, 10);
        lines.Add(new DiffLine(LineChange.Deleted, 11, null, "  \"maxDays\": 365,"));
        lines.Add(new DiffLine(LineChange.Inserted, null, 11, "  \"maxDays\": 730,"));
        lines.AddRange(Same(12, 12, 10));
        var diff = new CompareProtocolVersions.Response(1, 2,
        [
            new ComponentDiff("general", false, Same(1, 1, 5)),
            new ComponentDiff("followUp", true, lines),
        ]);

        var view = Render<ProtocolDiffView>(p => p.Add(x => x.Diff, diff));

        var components = view.FindAll("[data-testid=diff-component]");
        Assert.Equal([("general", "false"), ("followUp", "true")], components.Select(c => (c.GetAttribute("data-component")!, c.GetAttribute("data-changed")!)));
        Assert.Empty(components[0].QuerySelectorAll("table"));
        var deleted = Assert.Single(view.FindAll("[data-testid=diff-deleted]"));
        var inserted = Assert.Single(view.FindAll("[data-testid=diff-inserted]"));
        Assert.Equal(("\"maxDays\": 365,", "\"maxDays\": 730,"), (deleted.TextContent.Trim(), inserted.TextContent.Trim()));
        Assert.Same(deleted.ParentElement, inserted.ParentElement);
        Assert.Contains("#ffebee", deleted.GetAttribute("style"), StringComparison.Ordinal);
        Assert.Contains("#e8f5e9", inserted.GetAttribute("style"), StringComparison.Ordinal);
        Assert.Equal(["… 8 unchanged line(s) …", "… 8 unchanged line(s) …"], view.FindAll("[data-testid=diff-collapsed]").Select(r => r.TextContent.Trim()));
        Assert.Equal(ProtocolDiffRows.Context * 2, view.FindAll("[data-testid=diff-left]").Count);
    }
}
