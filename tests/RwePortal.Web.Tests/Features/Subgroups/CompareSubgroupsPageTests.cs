using Bunit;
using MediatR;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using RwePortal.Application.Common;
using RwePortal.Application.Features.DataSources;
using RwePortal.Application.Features.Subgroups;
using RwePortal.Application.Privacy;
using RwePortal.Application.Security;
using RwePortal.Web.Features.Subgroups;

namespace RwePortal.Web.Tests.Features.Subgroups;

/// <summary>The comparison page: both subgroups side by side, |SMD| above 0.1 marked, nothing computed on the page.</summary>
public sealed class CompareSubgroupsPageTests : BunitContext, IAsyncLifetime
{
    private static readonly UserContext Analyst =
        new(Guid.NewGuid(), "analyst@acme.test", "Acme Analyst", false, Guid.NewGuid(), "Acme Pharma", [TenantRole.Analyst]);

    private static readonly Guid A = Guid.NewGuid();
    private static readonly Guid B = Guid.NewGuid();
    private readonly BuilderMediator _mediator = new();

    public CompareSubgroupsPageTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IMediator>(_mediator);
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    private static ProtectedCount Shown(long value) => new(value, CellProtection.Exact, value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static GetSubgroup.Response Saved(Guid id, string name) => new(
        id, name, null, SubgroupVisibility.Private, "analyst", true, 1, """{"version": 1, "criteria": []}""", "v5", DateTimeOffset.UtcNow, []);

    private static SubgroupTable1 Table(long persons, params Table1Row[] rows) =>
        new("synthetic", "research", Shown(persons), [new Table1Section("sex", "Sex", rows)], 10);

    [Fact]
    public void Rows_with_an_absolute_difference_above_a_tenth_are_marked_and_hidden_counts_get_no_difference()
    {
        var womenA = new Table1Row("8532", "FEMALE", Shown(40), 50.0, null);
        var womenB = new Table1Row("8532", "FEMALE", Shown(30), 37.5, null);
        var menA = new Table1Row("8507", "MALE", Shown(40), 50.0, null);
        var menB = new Table1Row("8507", "MALE", Shown(50), 62.5, null);
        var otherA = new Table1Row("0", "Unknown", new ProtectedCount(null, CellProtection.Suppressed, "<11"), null, null);
        _mediator
            .Answer<GetSubgroup.Query, Result<GetSubgroup.Response>>(q => Saved(q.Id, q.Id == A ? "Low steps" : "Carriers"))
            .Answer<ListGrantedDataSources.Query, Result<IReadOnlyList<ListGrantedDataSources.Item>>>(_ =>
                new List<ListGrantedDataSources.Item> { new(Guid.NewGuid(), "synthetic", "Synthetic", ["research"]) })
            .Answer<CompareSubgroups.Query, Result<CompareSubgroups.Response>>(_ => new CompareSubgroups.Response(
                Table(80, womenA, menA, otherA),
                Table(80, womenB, menB),
                [
                    new ComparisonRow("sex", "8532", "FEMALE", womenA, womenB, 0.2554),
                    new ComparisonRow("sex", "8507", "MALE", menA, menB, -0.0512),
                    new ComparisonRow("sex", "0", "Unknown", otherA, null, null),
                ]));
        Services.GetRequiredService<NavigationManager>().NavigateTo($"subgroups/compare?a={A}&b={B}&source=synthetic&purpose=research");

        Render<MudPopoverProvider>();
        var page = Render<CompareSubgroupsPage>(p => p.AddCascadingValue(Analyst));

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-testid=compare-row]").Count));
        var rows = page.FindAll("[data-testid=compare-row]");
        Assert.Equal(["true", "false", "false"], rows.Select(r => r.GetAttribute("data-imbalanced")));
        Assert.Equal(["0.255", "-0.051", ""], page.FindAll("[data-testid=compare-smd]").Select(e => e.TextContent.Trim()));
        Assert.Contains("<11", rows[2].TextContent, StringComparison.Ordinal);
        Assert.Equal(("Low steps", "Carriers"), (page.Find("[data-testid=compare-name-a]").TextContent, page.Find("[data-testid=compare-name-b]").TextContent));
        var sent = _mediator.SentOf<CompareSubgroups.Query>().Single();
        Assert.Equal(("synthetic", "research"), (sent.Source, sent.Purpose));
    }
}
