using Bunit;
using MediatR;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using RwePortal.Application.Common;
using RwePortal.Application.Features.ConceptSets;
using RwePortal.Application.Features.Subgroups;
using RwePortal.Web.Features.Subgroups;

namespace RwePortal.Web.Tests.Features.Subgroups;

/// <summary>A criterion's concepts can use a saved concept set of the library, picked by name.</summary>
public sealed class ConceptSetEditorTests : BunitContext, IAsyncLifetime
{
    private static readonly ListConceptSets.Item HeartFailure =
        new(Guid.NewGuid(), "Heart failure (broad)", null, SubgroupVisibility.Tenant, "Acme Study Lead", false, 3, DateTimeOffset.UtcNow);

    private static readonly ListConceptSets.Item Mine =
        new(Guid.NewGuid(), "My ARNI drugs", null, SubgroupVisibility.Private, "Acme Analyst", true, 1, DateTimeOffset.UtcNow);

    private readonly BuilderMediator _mediator = new();

    public ConceptSetEditorTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IMediator>(_mediator);
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        _mediator.Answer<ListConceptSets.Query, Result<IReadOnlyList<ListConceptSets.Item>>>(_ => new List<ListConceptSets.Item> { HeartFailure, Mine });
    }

    public Task InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    [Fact]
    public void A_saved_set_picked_by_name_becomes_a_reference_chip_named_after_it()
    {
        var popovers = Render<MudPopoverProvider>();
        var concepts = new List<ConceptPick>();
        var changes = 0;
        var editor = Render<ConceptSetEditor>(p => p
            .Add(e => e.Concepts, concepts)
            .Add(e => e.Source, "synthetic")
            .Add(e => e.SavedSets, true)
            .Add(e => e.Changed, () => changes++));
        Assert.Empty(_mediator.SentOf<ListConceptSets.Query>());

        editor.Find("input[data-testid=concepts-saved]").Input("heart");

        popovers.WaitForAssertion(() => Assert.Single(popovers.FindAll("[data-testid=saved-set-option]")));
        popovers.Find($"[data-testid=saved-set-option][data-set-id='{HeartFailure.Id}']").Click();

        editor.WaitForAssertion(() => Assert.Single(concepts));
        Assert.Equal((HeartFailure.Id.ToString(), "Heart failure (broad)"), (concepts[0].ConceptSet, concepts[0].Name));
        Assert.Equal(1, changes);
        Assert.Contains("concept set Heart failure (broad)", editor.Find("[data-testid=concept-chip]").TextContent, StringComparison.Ordinal);
        Assert.Empty(editor.FindAll("[data-testid=concept-descendants]"));
    }

    [Fact]
    public void Without_saved_sets_there_is_no_library_picker()
    {
        var editor = Render<ConceptSetEditor>(p => p
            .Add(e => e.Concepts, new List<ConceptPick>())
            .Add(e => e.Source, "synthetic"));

        Assert.Empty(editor.FindAll("[data-testid=concepts-saved]"));
    }
}
