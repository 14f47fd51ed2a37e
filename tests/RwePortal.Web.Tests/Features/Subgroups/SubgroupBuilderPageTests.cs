using System.Text.Json.Nodes;
using Bunit;
using MediatR;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using RwePortal.Application.Common;
using RwePortal.Application.Features.DataSources;
using RwePortal.Application.Features.Subgroups;
using RwePortal.Application.Features.Vocabulary;
using RwePortal.Application.Privacy;
using RwePortal.Application.Security;
using RwePortal.Web.Features.Subgroups;

namespace RwePortal.Web.Tests.Features.Subgroups;

/// <summary>What an analyst does in the builder: cards change the definition, errors land at their card, counts follow the edits.</summary>
public sealed class SubgroupBuilderPageTests : BunitContext, IAsyncLifetime
{
    private static readonly UserContext Analyst =
        new(Guid.NewGuid(), "analyst@acme.test", "Acme Analyst", false, Guid.NewGuid(), "Acme Pharma", [TenantRole.Analyst]);

    private readonly BuilderMediator _mediator = new();
    private IRenderedComponent<MudPopoverProvider>? _popovers;

    public SubgroupBuilderPageTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IMediator>(_mediator);
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        _mediator
            .Answer<ListGrantedDataSources.Query, Result<IReadOnlyList<ListGrantedDataSources.Item>>>(_ =>
                new List<ListGrantedDataSources.Item> { new(Guid.NewGuid(), "synthetic", "Synthetic", ["research", "genomic_research"]) })
            .Answer<ListSourceGenes.Query, Result<ListSourceGenes.Response>>(q => new ListSourceGenes.Response(q.Source, q.Purpose,
                [new ListSourceGenes.Gene("TTR", Shown(26), [new ListSourceGenes.Variant("c.424G>A", "p.Val142Ile", "rs76992529", "pathogenic", ["heterozygous"], Shown(26))])],
                []))
            .Answer<ListSubgroups.Query, Result<IReadOnlyList<ListSubgroups.Item>>>(_ => new List<ListSubgroups.Item>());
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // MudBlazor's popover services dispose asynchronously only.
    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    private static ProtectedCount Shown(long value) => new(value, CellProtection.Exact, value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));

    private static CountSubgroup.Response Counted(params (string Label, long Remaining)[] steps) => new(
        "synthetic", "research", Shown(steps[^1].Remaining), new ProtectedCount(null, CellProtection.Suppressed, "<11"),
        steps.Select(s => new CountSubgroup.Step(s.Label, Shown(s.Remaining))).ToList(), 12.5);

    private IRenderedComponent<SubgroupBuilderPage> RenderBuilder()
    {
        _popovers = Render<MudPopoverProvider>();
        return Render<SubgroupBuilderPage>(parameters => parameters
            .AddCascadingValue(Analyst)
            .Add(p => p.DebounceMilliseconds, 0));
    }

    /// <summary>The definition in the JSON view (opens its tab).</summary>
    private static JsonObject Definition(IRenderedComponent<SubgroupBuilderPage> page)
    {
        page.FindAll(".mud-tab").First(tab => tab.TextContent.Contains("JSON", StringComparison.Ordinal)).Click();
        var text = page.WaitForElement("textarea[data-testid=json-text], [data-testid=json-text] textarea");
        return (JsonObject)JsonNode.Parse(text.GetAttribute("value") ?? text.TextContent)!;
    }

    /// <summary>Opens the add menu and picks a kind (menu items render in the popover provider).</summary>
    private void AddCriterion(IRenderedComponent<SubgroupBuilderPage> page, string kind)
    {
        var cards = page.FindAll("[data-testid=criterion-card]").Count;
        page.WaitForElement("[data-testid=add-criterion] button").Click();
        _popovers!.WaitForElement($"[data-testid=add-kind-{kind}]").Click();
        page.WaitForAssertion(() => Assert.Equal(cards + 1, page.FindAll("[data-testid=criterion-card]").Count));
    }

    [Fact]
    public void Adding_a_criterion_adds_it_to_the_definition_the_cli_reads()
    {
        _mediator.Answer<CountSubgroup.Query, Result<CountSubgroup.Response>>(_ => Counted(("all persons, consented", 2813)));
        var page = RenderBuilder();
        page.WaitForAssertion(() => Assert.NotEmpty(_mediator.SentOf<CountSubgroup.Query>()));

        AddCriterion(page, "wearable");

        page.WaitForAssertion(() =>
        {
            var criteria = Assert.IsType<JsonArray>(JsonNode.Parse(_mediator.SentOf<CountSubgroup.Query>().Last().Definition)!["criteria"]);
            var wearable = Assert.IsType<JsonObject>(Assert.Single(criteria));
            Assert.Equal("wearable", (string?)wearable["kind"]);
            Assert.Equal("steps", (string?)wearable["metric"]);
            Assert.Equal(-90, (int?)wearable["window"]!["start"]);
        });
        Assert.Single(page.FindAll("[data-testid=criterion-card][data-path='criteria[0]']"));
        var shown = Definition(page);
        Assert.Equal(1, (int?)shown["version"]);
        Assert.Equal("wearable", (string?)shown["criteria"]![0]!["kind"]);
    }

    [Fact]
    public void A_refused_value_shows_its_rule_at_the_card_of_its_node_and_a_document_rule_above_the_cards()
    {
        _mediator.Answer<CountSubgroup.Query, Result<CountSubgroup.Response>>(q => JsonNode.Parse(q.Definition)!["criteria"]!.AsArray().Count < 2
            ? Counted(("all persons, consented", 2813))
            : new Error("Validation.Failed",
                "criteria[1].window.start: a window relative to the index (start, end) needs an index event; use from/to for calendar dates (document): something about the whole document"));
        var page = RenderBuilder();
        AddCriterion(page, "condition");
        page.WaitForElement("[data-testid=criterion-card][data-path='criteria[0]']");

        AddCriterion(page, "enrollment");

        var card = page.WaitForElement("[data-testid=criterion-card][data-path='criteria[1]']");
        page.WaitForAssertion(() => Assert.Contains("window.start: a window relative to the index", page.Find("[data-path='criteria[1]'] [data-testid=criterion-error]").TextContent, StringComparison.Ordinal));
        Assert.Empty(page.FindAll("[data-path='criteria[0]'] [data-testid=criterion-error]"));
        Assert.Contains("something about the whole document", page.Find("[data-testid=builder-error]").TextContent, StringComparison.Ordinal);
        Assert.NotNull(card);
    }

    [Fact]
    public void A_slow_count_is_cancelled_by_the_next_edit_and_only_the_newer_count_is_shown()
    {
        var slowStarted = new TaskCompletionSource();
        CancellationToken slowToken = default;
        var calls = 0;
        _mediator.AnswerAsync<CountSubgroup.Query, Result<CountSubgroup.Response>>(async (query, token) =>
        {
            calls++;
            var criteria = JsonNode.Parse(query.Definition)!["criteria"]!.AsArray().Count;
            if (criteria == 1 && !query.Attrition)
            {
                // The count after the first edit: runs until someone cancels it.
                slowToken = token;
                slowStarted.SetResult();
                await Task.Delay(Timeout.Infinite, token);
            }

            var counted = Counted(("all persons, consented", 2813), ("second edit", criteria == 0 ? 2813 : 42));
            return query.Attrition ? counted : counted with { Attrition = [] };
        });
        var page = RenderBuilder();
        page.WaitForAssertion(() => Assert.Equal(2, calls));

        AddCriterion(page, "condition");
        page.WaitForAssertion(() => Assert.True(slowStarted.Task.IsCompleted));
        Assert.Equal("counting", page.Find("[data-testid=funnel]").GetAttribute("data-state"));
        AddCriterion(page, "variant");

        page.WaitForAssertion(() => Assert.Equal("counted", page.Find("[data-testid=funnel]").GetAttribute("data-state")));
        Assert.True(slowToken.IsCancellationRequested);
        // The first view's count and funnel, the first edit's count (cancelled, so no funnel), the second edit's count and funnel.
        Assert.Equal(5, calls);
        Assert.Equal("42", page.Find("[data-testid=funnel-count]").TextContent.Trim());
        Assert.Equal(["2,813", "42"], page.FindAll("[data-testid=funnel-step-count]").Select(e => e.TextContent.Trim()));
        Assert.Contains("<11", page.Find("[data-testid=funnel-consent]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void The_count_shows_at_once_and_the_funnel_steps_when_they_arrive()
    {
        var funnel = new TaskCompletionSource();
        _mediator.AnswerAsync<CountSubgroup.Query, Result<CountSubgroup.Response>>(async (query, token) =>
        {
            var counted = Counted(("all persons, consented", 2813), ("heart failure", 1200));
            if (!query.Attrition)
            {
                return counted with { Attrition = [] };
            }

            await funnel.Task.WaitAsync(token);
            return counted;
        });

        var page = RenderBuilder();

        page.WaitForAssertion(() => Assert.Equal("1,200", page.Find("[data-testid=funnel-count]").TextContent.Trim()));
        Assert.NotNull(page.Find("[data-testid=funnel-steps-pending]"));
        Assert.Empty(page.FindAll("[data-testid=funnel-step-count]"));
        Assert.Equal("counting", page.Find("[data-testid=funnel]").GetAttribute("data-state"));
        var sent = _mediator.SentOf<CountSubgroup.Query>().ToList();
        Assert.Equal([false, true], sent.Select(q => q.Attrition));

        funnel.SetResult();

        page.WaitForAssertion(() => Assert.Equal(["2,813", "1,200"], page.FindAll("[data-testid=funnel-step-count]").Select(e => e.TextContent.Trim())));
        Assert.Empty(page.FindAll("[data-testid=funnel-steps-pending]"));
        Assert.Equal("counted", page.Find("[data-testid=funnel]").GetAttribute("data-state"));
    }

    [Fact]
    public void The_gene_picker_offers_the_genes_the_source_holds_with_protected_carrier_counts()
    {
        _mediator.Answer<CountSubgroup.Query, Result<CountSubgroup.Response>>(_ => Counted(("all persons, consented", 2813)));
        var page = RenderBuilder();
        AddCriterion(page, "variant");

        page.WaitForElement("[data-path='criteria[0]'] [data-testid=variant-gene]");
        var genes = _mediator.SentOf<ListSourceGenes.Query>().Single();
        Assert.Equal(("synthetic", "research"), (genes.Source, genes.Purpose));
    }

    [Fact]
    public void Renaming_the_subgroup_counts_nothing_new_but_a_criterion_does()
    {
        _mediator.Answer<CountSubgroup.Query, Result<CountSubgroup.Response>>(_ => Counted(("all persons, consented", 2813)));
        var page = RenderBuilder();
        page.WaitForAssertion(() => Assert.Single(_mediator.SentOf<CountSubgroup.Query>(), q => q.Attrition));

        page.Find("input[data-testid=builder-name], [data-testid=builder-name] input").Input("Low walkers");
        page.WaitForAssertion(() => Assert.Equal("Low walkers", page.Find("[data-testid=builder-title]").TextContent.Trim()));
        AddCriterion(page, "enrollment");

        page.WaitForAssertion(() => Assert.Equal(2, _mediator.SentOf<CountSubgroup.Query>().Count(q => q.Attrition)));
        Assert.Equal(2, _mediator.SentOf<CountSubgroup.Query>().Count(q => !q.Attrition));
        Assert.DoesNotContain("Low walkers", _mediator.SentOf<CountSubgroup.Query>().Last().Definition, StringComparison.Ordinal);
    }

    [Fact]
    public void The_prerendered_page_asks_the_warehouse_nothing()
    {
        SetRendererInfo(new RendererInfo("Static", isInteractive: false));
        _mediator.Answer<CountSubgroup.Query, Result<CountSubgroup.Response>>(_ => Counted(("all persons, consented", 2813)));

        var page = RenderBuilder();

        page.WaitForElement("[data-testid=builder-source]");
        Assert.Empty(_mediator.SentOf<CountSubgroup.Query>());
        Assert.Empty(_mediator.SentOf<ListSourceGenes.Query>());
    }
}
