using System.Text.Json;
using RwePortal.Warehouse.Cohorts;
using RwePortal.Web.Features.Subgroups;

namespace RwePortal.Web.Tests.Features.Subgroups;

/// <summary>The builder writes the document the CLI reads: every example read into the builder and written back compiles to the same statement.</summary>
public sealed class SubgroupDraftTests
{
    private static string Examples()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "RwePortal.sln")))
        {
            directory = directory.Parent;
        }

        return Path.Combine(directory!.FullName, "docs", "examples", "subgroups");
    }

    public static TheoryData<string> ExampleFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Examples(), "*.json").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    private static (string Sql, string Parameters) Compiled(string json)
    {
        var parsed = SubgroupDefinitionParser.Parse(json);
        Assert.True(parsed.IsValid, string.Join("\n", parsed.Errors));
        var compiled = SubgroupCompiler.Compile(parsed.Definition!, "cdm_example", "example", "research");
        return (compiled.Sql, JsonSerializer.Serialize(compiled.Parameters.Select(p => new[] { p.Name, JsonSerializer.Serialize(p.Value) })));
    }

    [Theory]
    [MemberData(nameof(ExampleFiles))]
    public void An_example_read_into_the_builder_and_written_back_compiles_to_the_same_statement(string file)
    {
        var original = File.ReadAllText(Path.Combine(Examples(), file));

        var written = SubgroupDraft.FromJson(original).ToJson();

        Assert.Equal(Compiled(original), Compiled(written));
    }

    [Fact]
    public void Every_kind_the_builder_offers_writes_a_criterion_the_schema_accepts_once_its_required_values_are_set()
    {
        var draft = new SubgroupDraft { Index = new CriterionDraft("condition") { Occurrence = "first" } };
        draft.Index.Concepts.Add(new ConceptPick(316139, "Heart failure"));
        foreach (var kind in CriterionKind.All.Where(k => !k.IsGroup && k.Key != "subgroup"))
        {
            var criterion = new CriterionDraft(kind.Key);
            criterion.Concepts.Add(new ConceptPick(kind.Key == "sex" ? 8532 : 316139, null));
            criterion.AgeMin = 18;
            criterion.Gene = "TTR";
            criterion.ScoreId = "PRS-HF-1";
            criterion.Percentile.Lower = 90;
            if (kind.Key == "pro")
            {
                criterion.Value.Upper = 50;
            }

            draft.Criteria.Add(criterion);
        }

        var group = new CriterionDraft("any");
        group.Children.Add(new CriterionDraft("enrollment"));
        var not = new CriterionDraft("not");
        not.Children.Add(new CriterionDraft("wearable"));
        group.Children.Add(not);
        draft.Criteria.Add(group);

        var parsed = SubgroupDefinitionParser.Parse(draft.ToJson());

        Assert.True(parsed.IsValid, string.Join("\n", parsed.Errors));
        Assert.Equal(CriterionKind.All.Count(k => !k.IsGroup && k.Key != "subgroup") + 1, parsed.Definition!.Criteria.Count);
        Assert.Equal(Compiled(draft.ToJson()), Compiled(SubgroupDraft.FromJson(draft.ToJson()).ToJson()));
    }

    [Fact]
    public void A_validation_message_is_split_by_node_path_and_each_rule_lands_on_its_deepest_card()
    {
        var errors = CriteriaErrors.FromMessage(
            "criteria[1].any[0].window.start: start is after end criteria[1]: a group needs children criteria[10].count.min: min is greater than max (document): too long");

        Assert.Equal(["window.start: start is after end"], errors.At("criteria[1].any[0]", []));
        Assert.Equal(["a group needs children"], errors.At("criteria[1]", ["criteria[1].any[0]"]));
        Assert.Equal(["count.min: min is greater than max"], errors.At("criteria[10]", []));
        Assert.Equal(["too long"], errors.Unclaimed(["criteria[1]", "criteria[1].any[0]", "criteria[10]"]));
    }
}
