using Bunit;
using MediatR;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using RwePortal.Application.Common;
using RwePortal.Application.Features.Subgroups;
using RwePortal.Application.Security;
using RwePortal.Web.Features.Subgroups;

namespace RwePortal.Web.Tests.Features.Subgroups;

/// <summary>The saved subgroups list: one's own can be edited, shared and deleted; anyone's can be opened, copied and compared.</summary>
public sealed class SubgroupsPageTests : BunitContext, IAsyncLifetime
{
    private static readonly UserContext Analyst =
        new(Guid.NewGuid(), "analyst@acme.test", "Acme Analyst", false, Guid.NewGuid(), "Acme Pharma", [TenantRole.Analyst]);

    private static readonly ListSubgroups.Item Mine =
        new(Guid.NewGuid(), "Low walkers", "HF, TTR, < 3,000 steps", SubgroupVisibility.Private, "analyst", true, 3, DateTimeOffset.UtcNow);

    private static readonly ListSubgroups.Item Shared =
        new(Guid.NewGuid(), "All carriers", null, SubgroupVisibility.Tenant, "studylead", false, 1, DateTimeOffset.UtcNow);

    private readonly BuilderMediator _mediator = new();

    public SubgroupsPageTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IMediator>(_mediator);
        _mediator.Answer<ListSubgroups.Query, Result<IReadOnlyList<ListSubgroups.Item>>>(_ => new List<ListSubgroups.Item> { Mine, Shared });
    }

    public Task InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    [Fact]
    public void Only_ones_own_subgroups_offer_edit_share_and_delete_and_two_picked_open_the_comparison()
    {
        Render<MudPopoverProvider>();
        var page = Render<SubgroupsPage>(p => p.AddCascadingValue(Analyst));

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=subgroup-row]").Count));
        var mine = page.Find("[data-testid=subgroup-row][data-name='Low walkers']");
        var shared = page.Find("[data-testid=subgroup-row][data-name='All carriers']");
        Assert.NotEmpty(mine.QuerySelectorAll("[data-testid=subgroup-delete]"));
        Assert.NotEmpty(mine.QuerySelectorAll("[data-testid=subgroup-share]"));
        Assert.Empty(shared.QuerySelectorAll("[data-testid=subgroup-delete]"));
        Assert.Empty(shared.QuerySelectorAll("[data-testid=subgroup-edit]"));
        Assert.NotEmpty(shared.QuerySelectorAll("[data-testid=subgroup-duplicate]"));
        Assert.Equal("shared", shared.QuerySelector("[data-testid=subgroup-visibility]")!.TextContent.Trim());

        foreach (var row in new[] { "Low walkers", "All carriers" })
        {
            page.Find($"[data-testid=subgroup-row][data-name='{row}'] input[type=checkbox]").Change(true);
        }

        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=subgroups-compare]").HasAttribute("disabled")));
        page.Find("[data-testid=subgroups-compare]").Click();
        // The button's click handler completes on the renderer's dispatcher: wait for the navigation rather than race it.
        var navigation = Services.GetRequiredService<NavigationManager>();
        page.WaitForAssertion(() => Assert.EndsWith($"subgroups/compare?a={Mine.Id}&b={Shared.Id}", navigation.Uri, StringComparison.Ordinal), TimeSpan.FromSeconds(10));
    }
}
