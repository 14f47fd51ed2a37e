using RwePortal.Warehouse.Cohorts;

namespace RwePortal.Warehouse.Tests.Cohorts;

/// <summary>Untrusted definitions are refused with the node's path and the rule; valid ones become records.</summary>
public sealed class SubgroupDefinitionParserTests
{
    private static IReadOnlyList<CriteriaError> Errors(string json)
    {
        var result = SubgroupDefinitionParser.Parse(json);
        Assert.False(result.IsValid, "the definition should be refused");
        Assert.NotEmpty(result.Errors);
        return result.Errors;
    }

    [Fact]
    public void Every_example_in_the_docs_is_valid()
    {
        var names = Examples.All().ToList();
        Assert.Contains("eunomia-gi-bleed.json", names);
        Assert.Contains("eunomia-celecoxib-new-users.json", names);
        Assert.Contains("synthetic-ttr-hf-low-steps.json", names);
        foreach (var name in names)
        {
            var result = SubgroupDefinitionParser.Parse(Examples.Read(name));
            Assert.True(result.IsValid, name + ": " + string.Join("; ", result.Errors));
        }
    }

    [Fact]
    public void The_four_modality_example_reads_into_its_records()
    {
        var definition = SubgroupDefinitionParser.Parse(Examples.Read("synthetic-ttr-hf-low-steps.json")).Definition!;

        Assert.Equal(EventDomain.Drug, definition.Index!.Domain);
        Assert.Equal(Occurrence.First, definition.Index.Occurrence);
        Assert.Equal([2000000402, 1341927], definition.Index.Concepts.Select(c => c.Id));
        var condition = Assert.IsType<EventCriterion>(definition.Criteria[0]);
        Assert.Equal(new Window(null, -1, null, null), condition.Window);
        Assert.True(condition.Concepts[0].Descendants);
        var variant = Assert.IsType<VariantCriterion>(definition.Criteria[1]);
        Assert.Equal("TTR", variant.Gene);
        var wearable = Assert.IsType<WearableCriterion>(definition.Criteria[2]);
        Assert.Equal(new ValueRange(null, null, null, 3000), wearable.Mean);
        Assert.Equal(10, wearable.MinDaysWorn);
        var enrollment = Assert.IsType<EnrollmentCriterion>(definition.Criteria[3]);
        Assert.Equal(new Window(-365, -1, null, null), enrollment.Window);
        Assert.Equal("criteria[3]", enrollment.Path);
    }

    [Fact]
    public void An_unknown_field_is_refused_at_its_node()
    {
        var errors = Errors("""
            {"version": 1, "criteria": [{"kind": "sex", "concepts": [8507]}, {"kind": "sex", "concepts": [8507]},
              {"any": [{"kind": "condition", "concepts": [{"id": 1}], "window": {"from": "2020-01-01", "days": 30}}]}]}
            """);

        Assert.Contains(errors, e => e.Path == "criteria[2].any[0].window.days" && e.Rule.StartsWith("unknown field", StringComparison.Ordinal));
    }

    [Fact]
    public void A_wrong_type_names_the_field_and_no_branch_noise()
    {
        var errors = Errors("""{"version": 1, "criteria": [{"kind": "condition", "concepts": [{"id": "192671; DROP TABLE person"}]}]}""");

        Assert.All(errors, e => Assert.Equal("criteria[0].concepts[0].id", e.Path));
    }

    [Fact]
    public void The_version_must_be_1_and_criteria_are_required()
    {
        Assert.Contains(Errors("""{"version": 2, "criteria": []}"""), e => e.Path == "version");
        Assert.Contains(Errors("""{"version": 1}"""), e => e.Path == "" && e.Rule.Contains("criteria", StringComparison.Ordinal));
    }

    [Fact]
    public void A_relative_window_without_an_index_is_refused()
    {
        var errors = Errors("""{"version": 1, "criteria": [{"kind": "condition", "concepts": [{"id": 1}], "window": {"start": -30, "end": 0}}]}""");

        Assert.Contains(errors, e => e.Path == "criteria[0].window.start" && e.Rule.Contains("index", StringComparison.Ordinal));
    }

    [Fact]
    public void Bounds_out_of_order_are_refused()
    {
        const string Index = "\"index\": {\"kind\": \"condition\", \"concepts\": [{\"id\": 1}]}";
        Assert.Contains(Errors($$"""{"version": 1, {{Index}}, "criteria": [{"kind": "age", "min": 80, "max": 18}]}"""), e => e.Path == "criteria[0].min");
        Assert.Contains(Errors($$$"""{"version": 1, {{{Index}}}, "criteria": [{"kind": "condition", "concepts": [{"id": 1}], "window": {"start": 10, "end": -10}}]}"""), e => e.Path == "criteria[0].window.start");
        Assert.Contains(Errors("""{"version": 1, "criteria": [{"kind": "measurement", "concepts": [{"id": 1}], "value": {"gt": 5, "lt": 5}}]}"""), e => e.Path == "criteria[0].value");
        Assert.Contains(Errors("""{"version": 1, "criteria": [{"kind": "measurement", "concepts": [{"id": 1}], "value": {"gt": 5, "gte": 6}}]}"""), e => e.Path == "criteria[0].value");
        Assert.Contains(Errors("""{"version": 1, "criteria": [{"kind": "condition", "concepts": [{"id": 1}], "count": {"min": 3, "max": 2}}]}"""), e => e.Path == "criteria[0].count.min");
        Assert.Contains(Errors("""{"version": 1, "criteria": [{"kind": "condition", "concepts": [{"id": 1}], "count": {"min": 0}}]}"""), e => e.Path == "criteria[0].count.min");
        Assert.Contains(Errors("""{"version": 1, "criteria": [{"kind": "condition", "concepts": [{"id": 1}], "window": {"from": "2020-02-30"}}]}"""), e => e.Path == "criteria[0].window.from");
    }

    [Fact]
    public void Nesting_deeper_than_the_limit_is_refused_at_the_deepest_allowed_node()
    {
        var leaf = """{"kind": "sex", "concepts": [8507]}""";
        var nested = leaf;
        for (var i = 0; i < SubgroupDefinitionParser.MaxGroupDepth + 1; i++)
        {
            nested = $$"""{"all": [{{nested}}]}""";
        }

        var errors = Errors($$"""{"version": 1, "criteria": [{{nested}}]}""");

        Assert.Contains(errors, e => e.Rule.Contains("nest", StringComparison.Ordinal) && e.Path.StartsWith("criteria[0].all[0].all[0]", StringComparison.Ordinal));
        var allowed = leaf;
        for (var i = 0; i < SubgroupDefinitionParser.MaxGroupDepth; i++)
        {
            allowed = $$"""{"all": [{{allowed}}]}""";
        }

        Assert.True(SubgroupDefinitionParser.Parse($$"""{"version": 1, "criteria": [{{allowed}}]}""").IsValid);
    }

    [Fact]
    public void Too_many_nodes_and_too_long_lists_are_refused()
    {
        var leaves = string.Join(",", Enumerable.Repeat("""{"kind": "sex", "concepts": [8507]}""", 45));
        var groups = string.Join(",", Enumerable.Repeat($$"""{"any": [{{leaves}}]}""", 5));
        Assert.Contains(Errors($$"""{"version": 1, "criteria": [{{groups}}]}"""), e => e.Rule.Contains("at most 200 nodes", StringComparison.Ordinal));

        var concepts = string.Join(",", Enumerable.Range(1, 501).Select(i => $$"""{"id": {{i}}}"""));
        Assert.Contains(Errors($$"""{"version": 1, "criteria": [{"kind": "condition", "concepts": [{{concepts}}]}]}"""), e => e.Path == "criteria[0].concepts");
    }

    [Fact]
    public void Malformed_json_and_huge_documents_are_refused_without_throwing()
    {
        Assert.Contains(Errors("{\"version\": 1, \"criteria\": ["), e => e.Rule.Contains("not valid JSON", StringComparison.Ordinal));
        Assert.Contains(Errors(new string('[', 100) + new string(']', 100)), e => e.Rule.Contains("not valid JSON", StringComparison.Ordinal));
        Assert.Contains(Errors(new string(' ', SubgroupDefinitionParser.MaxDocumentLength + 1)), e => e.Rule.Contains("longer", StringComparison.Ordinal));
    }

    [Fact]
    public void A_field_given_twice_is_refused_rather_than_read_one_way_by_the_schema_and_another_by_the_parser()
    {
        Assert.Contains(
            Errors("""{"version": 1, "criteria": [{"kind": "sex", "kind": "condition", "concepts": [8507]}]}"""),
            e => e.Rule.Contains("twice", StringComparison.Ordinal));
    }

    [Fact]
    public void Index_takes_first_or_last_and_calendar_dates_only()
    {
        Assert.Contains(Errors("""{"version": 1, "index": {"kind": "drug", "concepts": [{"id": 1}], "occurrence": "any"}, "criteria": []}"""), e => e.Path == "index.occurrence");
        Assert.Contains(Errors("""{"version": 1, "index": {"kind": "drug", "concepts": [{"id": 1}], "window": {"start": 0}}, "criteria": []}"""), e => e.Path == "index.window");
        Assert.Contains(Errors("""{"version": 1, "index": {"kind": "variant", "gene": "TTR"}, "criteria": []}"""), e => e.Path == "index.kind");
    }

    [Fact]
    public void Wearable_and_enrollment_need_a_bounded_window_within_the_limit()
    {
        const string Index = "\"index\": {\"kind\": \"condition\", \"concepts\": [{\"id\": 1}]}";
        Assert.Contains(Errors($$$"""{"version": 1, {{{Index}}}, "criteria": [{"kind": "wearable", "metric": "steps", "mean": {"lt": 3000}, "window": {"end": -1}}]}"""), e => e.Path == "criteria[0].window");
        Assert.Contains(Errors($$$"""{"version": 1, {{{Index}}}, "criteria": [{"kind": "enrollment", "window": {"start": -4000, "end": -1}}]}"""), e => e.Path == "criteria[0].window");
        Assert.Contains(Errors($$$"""{"version": 1, {{{Index}}}, "criteria": [{"kind": "wearable", "metric": "steps", "window": {"start": -30, "end": -1}}]}"""), e => e.Path == "criteria[0]" && e.Rule.Contains("baseline", StringComparison.Ordinal));
        Assert.Contains(Errors($$$$"""{"version": 1, {{{{Index}}}}, "criteria": [{"kind": "wearable", "metric": "steps", "window": {"start": -30, "end": -1}, "baseline": {"window": {"end": -300}, "changePercent": {"lte": -20}}}]}"""), e => e.Path == "criteria[0].baseline.window");
        Assert.Contains(Errors($$$"""{"version": 1, {{{Index}}}, "criteria": [{"kind": "wearable", "metric": "steps", "mean": {"lt": 3000}, "minDaysWorn": 40, "window": {"start": -30, "end": -1}}]}"""), e => e.Path == "criteria[0].minDaysWorn");
    }

    [Fact]
    public void Pointers_become_node_paths()
    {
        Assert.Equal("criteria[2].any[0].window.start", SubgroupDefinitionParser.ToPath("/criteria/2/any/0/window/start"));
        Assert.Equal("", SubgroupDefinitionParser.ToPath(""));
    }
}
