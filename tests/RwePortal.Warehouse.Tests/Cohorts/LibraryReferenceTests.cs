using System.Text.RegularExpressions;
using RwePortal.Warehouse.Cohorts;

namespace RwePortal.Warehouse.Tests.Cohorts;

/// <summary>
/// References to the portal's library in the criteria model: refused in self-contained definitions (files, the
/// command line), kept for the portal to resolve otherwise; a resolved saved subgroup compiles to membership of its
/// own members statement and counts what a hand-written query counts.
/// </summary>
[Collection(CohortWarehouseCollection.Name)]
public sealed partial class LibraryReferenceTests(CohortWarehouseFixture fixture)
{
    private static readonly Guid Saved = Guid.Parse("0b5a6d3e-6f1a-4c53-9d7e-1f2a3b4c5d6e");
    private static readonly Guid Set = Guid.Parse("9c1e2d3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f");

    private static readonly string WithReferences = $$"""
        {"version": 1, "criteria": [
          {"kind": "sex", "concepts": [8532]},
          {"any": [{"kind": "subgroup", "id": "{{Saved}}", "label": "older bleeders"},
                   {"kind": "condition", "concepts": [{"conceptSet": "{{Set}}"}, {"id": 28060, "exclude": true}]}]}
        ]}
        """;

    /// <summary>GI bleed (192671 and descendants) indexed on its first occurrence, aged 40 or more at it.</summary>
    private const string OlderBleeders = """
        {"version": 1, "index": {"kind": "condition", "concepts": [{"id": 192671}]}, "criteria": [{"kind": "age", "min": 40}]}
        """;

    private const string OlderBleedersSql = """
        SELECT f.person_id
        FROM (SELECT co.person_id, min(co.condition_start_date) AS index_date
              FROM cdm_eunomia.condition_occurrence co
              WHERE co.condition_concept_id IN (SELECT descendant_concept_id FROM cdm_eunomia.concept_ancestor WHERE ancestor_concept_id = 192671)
                 OR co.condition_concept_id = 192671
              GROUP BY co.person_id) f
        JOIN cdm_eunomia.person p ON p.person_id = f.person_id
        WHERE extract(year FROM f.index_date) - p.year_of_birth >= 40
        """;

    [Fact]
    public void A_self_contained_definition_refuses_library_references_with_their_node_paths()
    {
        var result = SubgroupDefinitionParser.Parse(WithReferences);

        Assert.False(result.IsValid);
        var subgroup = Assert.Single(result.Errors, e => e.Path == "criteria[1].any[0]");
        Assert.Contains("a saved subgroup is an object of a tenant's library in the portal", subgroup.Rule, StringComparison.Ordinal);
        Assert.Contains(result.Errors, e => e.Path == "criteria[1].any[1].concepts[0].conceptSet" && e.Rule.StartsWith("a saved concept set", StringComparison.Ordinal));
    }

    [Fact]
    public void The_portal_reads_references_unresolved_with_their_paths()
    {
        var result = SubgroupDefinitionParser.Parse(WithReferences, allowReferences: true);

        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        var any = Assert.IsType<AnyNode>(result.Definition!.Criteria[1]);
        var member = Assert.IsType<SubgroupCriterion>(any.Nodes[0]);
        Assert.Equal((Saved, "older bleeders", "criteria[1].any[0]"), (member.Id, member.Label, member.Path));
        Assert.Null(member.Definition);
        var condition = Assert.IsType<EventCriterion>(any.Nodes[1]);
        Assert.Equal([new ConceptSetReference("criteria[1].any[1].concepts[0]", Set)], condition.ConceptSets!);
        // Only the written item stays in Concepts; an excluded one alone is fine until the set is expanded.
        Assert.Equal([new ConceptItem(28060, true, true)], condition.Concepts);
    }

    [Theory]
    [InlineData("""{"kind": "subgroup", "id": "not-a-guid"}""", "criteria[0].id")]
    [InlineData("""{"kind": "subgroup", "id": "0b5a6d3e-6f1a-4c53-9d7e-1f2a3b4c5d6e", "negate": true}""", "criteria[0].negate")]
    [InlineData("""{"kind": "subgroup"}""", "criteria[0]")]
    [InlineData("""{"kind": "condition", "concepts": [{"conceptSet": "9c1e2d3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f", "descendants": false}]}""", "criteria[0].concepts[0].descendants")]
    [InlineData("""{"kind": "condition", "concepts": [{"conceptSet": "x'; DROP TABLE person; --"}]}""", "criteria[0].concepts[0].conceptSet")]
    public void Malformed_references_are_refused_by_the_schema_at_their_node(string criterion, string path)
    {
        var result = SubgroupDefinitionParser.Parse($$"""{"version": 1, "criteria": [{{criterion}}]}""", allowReferences: true);

        Assert.False(result.IsValid);
        Assert.Contains(result.Errors, e => e.Path == path);
    }

    [Fact]
    public void An_unresolved_subgroup_reference_never_compiles()
    {
        var definition = SubgroupDefinitionParser.Parse($$"""{"version": 1, "criteria": [{"kind": "subgroup", "id": "{{Saved}}"}]}""", allowReferences: true).Definition!;

        var refused = Assert.Throws<ArgumentException>(() => SubgroupCompiler.Compile(definition, "cdm_eunomia", CohortWarehouseFixture.Eunomia, "research"));
        Assert.Contains("criteria[0]", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_resolved_subgroup_is_embedded_as_its_members_statement_with_its_parameters_renamed_into_the_outer_ones()
    {
        var compiled = SubgroupCompiler.Compile(Resolved(WithReferences, OlderBleeders, [192671]), "cdm_eunomia", CohortWarehouseFixture.Eunomia, "research");

        // Consent holds in the nested statement too (its members are consented persons), on the same @source and @purpose:
        // the outer CDM-table body's filter, and the nested statement once in each of the two bodies (decision 0741).
        Assert.Equal(3, Regex.Count(compiled.Sql, Regex.Escape(SubgroupCompiler.ConsentFilter)));
        Assert.Equal(3, Regex.Count(compiled.Sql, Regex.Escape(SubgroupCompiler.ConsentBitmap)));
        Assert.Contains("b.person_id IN (SELECT m.person_id FROM (", compiled.Sql, StringComparison.Ordinal);
        var used = ParameterName().Matches(compiled.Sql).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var declared = compiled.Parameters.Select(p => p.Name).ToList();
        Assert.Equal(declared.Count, declared.Distinct(StringComparer.Ordinal).Count());
        Assert.Empty(declared.Except(used));
        Assert.Empty(used.Except(declared));
        Assert.Contains(compiled.Parameters, p => p.Value is double d && d == 40);
        // The value 40 is a parameter; placeholders such as @p40 are names, not the value.
        Assert.DoesNotMatch(@"(?<!@p)\b40\b", compiled.Sql);
        Assert.Equal(["all persons, consented", "criteria[0]: sex", "criteria[1]: any of 2"], compiled.Steps);
    }

    [Fact]
    public async Task Membership_intersection_and_exclusion_of_a_saved_subgroup_match_hand_written_counts()
    {
        var olderBleeders = await fixture.OwnerCountAsync($"SELECT count(*) FROM ({OlderBleedersSql}) x");
        var womenAmongThem = await fixture.OwnerCountAsync($"SELECT count(*) FROM cdm_eunomia.person p WHERE p.gender_concept_id = 8532 AND p.person_id IN ({OlderBleedersSql})");
        var womenNotAmongThem = await fixture.OwnerCountAsync($"SELECT count(*) FROM cdm_eunomia.person p WHERE p.gender_concept_id = 8532 AND p.person_id NOT IN ({OlderBleedersSql})");

        var member = await CountAsync($$"""{"version": 1, "criteria": [{"kind": "subgroup", "id": "{{Saved}}"}]}""");
        var intersection = await CountAsync($$"""{"version": 1, "criteria": [{"kind": "sex", "concepts": [8532]}, {"kind": "subgroup", "id": "{{Saved}}"}]}""");
        var exclusion = await CountAsync($$$"""{"version": 1, "criteria": [{"kind": "sex", "concepts": [8532]}, {"not": {"kind": "subgroup", "id": "{{{Saved}}}"}}]}""");

        Assert.True(olderBleeders > 100 && womenAmongThem > 10, $"the sample has older bleeders ({olderBleeders}, {womenAmongThem} women)");
        Assert.Equal(olderBleeders, member.Count);
        Assert.Equal(womenAmongThem, intersection.Count);
        Assert.Equal(womenNotAmongThem, exclusion.Count);
    }

    [Fact]
    public async Task A_subgroup_keeps_its_own_index_inside_an_outer_definition_with_another_index()
    {
        // Outer index: first sore throat (28060); the member criterion still means "GI bleed at 40 or more at the first bleed".
        var expected = await fixture.OwnerCountAsync($"""
            SELECT count(DISTINCT co.person_id) FROM cdm_eunomia.condition_occurrence co
            WHERE (co.condition_concept_id IN (SELECT descendant_concept_id FROM cdm_eunomia.concept_ancestor WHERE ancestor_concept_id = 28060) OR co.condition_concept_id = 28060)
              AND co.person_id IN ({OlderBleedersSql})
            """);

        var count = await CountAsync($$"""
            {"version": 1, "index": {"kind": "condition", "concepts": [{"id": 28060}]}, "criteria": [{"kind": "subgroup", "id": "{{Saved}}"}]}
            """);

        Assert.True(expected > 10, $"some older bleeders had a sore throat ({expected})");
        Assert.Equal(expected, count.Count);
    }

    private Task<SubgroupCount> CountAsync(string outer) =>
        new SubgroupCounter(fixture.Reader).CountAsync(Resolved(outer, OlderBleeders, [192671]), fixture.EunomiaSource, "research", CancellationToken.None);

    /// <summary>What the portal's resolution does, by hand: every subgroup reference gets <paramref name="saved"/>, every concept set the ids given.</summary>
    private static SubgroupDefinition Resolved(string outer, string saved, int[] setIds)
    {
        var nested = CohortWarehouseFixture.Definition(saved);
        var parsed = SubgroupDefinitionParser.Parse(outer, allowReferences: true);
        Assert.True(parsed.IsValid, string.Join("; ", parsed.Errors));

        CriterionNode Resolve(CriterionNode node) => node switch
        {
            AllNode all => all with { Nodes = all.Nodes.Select(Resolve).ToList() },
            AnyNode any => any with { Nodes = any.Nodes.Select(Resolve).ToList() },
            NotNode not => not with { Node = Resolve(not.Node) },
            SubgroupCriterion s => s with { Definition = nested },
            EventCriterion { ConceptSets: not null } e => e with { Concepts = [.. e.Concepts, .. setIds.Select(id => new ConceptItem(id, true, false))], ConceptSets = null },
            _ => node,
        };

        return parsed.Definition! with { Criteria = parsed.Definition.Criteria.Select(Resolve).ToList() };
    }

    [GeneratedRegex(@"@([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex ParameterName();
}
