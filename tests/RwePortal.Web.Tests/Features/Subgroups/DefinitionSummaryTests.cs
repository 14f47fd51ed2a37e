using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;
using RwePortal.Web.Features.Subgroups;

namespace RwePortal.Web.Tests.Features.Subgroups;

/// <summary>The read-only view shows every criterion of a definition, nested ones included, in words.</summary>
public sealed class DefinitionSummaryTests : BunitContext
{
    public DefinitionSummaryTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
    }

    [Fact]
    public void Every_criterion_of_the_four_modality_example_is_listed_with_its_values_and_window()
    {
        var json = """
            {"version": 1,
             "index": {"kind": "drug", "concepts": [{"id": 1341927}], "occurrence": "first"},
             "criteria": [
               {"kind": "condition", "label": "heart failure before index", "concepts": [{"id": 316139}], "window": {"end": -1}},
               {"any": [{"kind": "variant", "gene": "TTR", "significance": ["pathogenic"]},
                        {"not": {"kind": "genomicScore", "scoreId": "PRS-HF-1", "percentile": {"gte": 95}}}]},
               {"kind": "wearable", "metric": "steps", "mean": {"lt": 3000}, "minDaysWorn": 10, "window": {"start": -30, "end": -1}},
               {"kind": "enrollment", "window": {"start": -365, "end": -1}, "allowedGapDays": 30}
             ]}
            """;

        var summary = Render<DefinitionSummary>(p => p.Add(s => s.Draft, SubgroupDraft.FromJson(json)));

        var items = summary.FindAll("[data-testid=summary-criterion]").Select(li => li.TextContent).ToList();
        Assert.Equal(7, items.Count);
        Assert.Contains("first occurrence", summary.Find("[data-testid=summary-index]").TextContent, StringComparison.Ordinal);
        Assert.Contains(items, t => t.StartsWith("heart failure before index: Condition: concept (316139, with descendants)", StringComparison.Ordinal) && t.Contains("any time before to −1 days from index", StringComparison.Ordinal));
        Assert.Contains(items, t => t.Contains("gene TTR; significance pathogenic", StringComparison.Ordinal));
        Assert.Contains(items, t => t.StartsWith("None of the following", StringComparison.Ordinal) && t.Contains("PRS-HF-1, percentile ≥ 95", StringComparison.Ordinal));
        Assert.Contains(items, t => t.Contains("mean Daily steps < 3000 over worn days, at least 10 days worn", StringComparison.Ordinal));
        Assert.Contains(items, t => t.Contains("gaps of at most 30 days · over −365 to −1 days from index", StringComparison.Ordinal));
    }
}
