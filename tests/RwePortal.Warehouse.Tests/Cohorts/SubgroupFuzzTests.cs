using System.Globalization;
using System.Text.RegularExpressions;
using CsCheck;
using Npgsql;
using RwePortal.Warehouse.Cohorts;

namespace RwePortal.Warehouse.Tests.Cohorts;

/// <summary>
/// Random and malicious definitions (SQL in strings, deep nesting, huge lists, wrong types, unknown fields) end in
/// validation errors or in counts, never in an exception or an SQL error; counts obey the laws of the boolean tree
/// (A and not A split the population; inclusion–exclusion for any).
/// </summary>
[Collection(CohortWarehouseCollection.Name)]
public sealed class SubgroupFuzzTests(CohortWarehouseFixture fixture)
{
    private static readonly string[] Hostile =
    [
        "'; DROP TABLE person; --", "\" OR 1=1 --", "TTR') OR ('a'='a", "$$; SELECT pg_sleep(10); $$", "\\x00", "\u0000", "ü🧬",
        "c.424G>A", "p.Val142Ile", "rs76992529", "pathogenic", "RWE-PRS-HF-1", "1990-01-01", "2005-13-45", "",
    ];

    private static readonly string[] Kinds =
    [
        "age", "sex", "race", "ethnicity", "condition", "drug", "procedure", "observation", "measurement", "visit", "pro",
        "variant", "genomicScore", "wearable", "enrollment", "adherence", "cohort", "'; DELETE FROM gov.consent; --",
    ];

    private static readonly int[] Concepts = [192671, 28060, 1118084, 1124300, 8507, 8532, 9201, 9202, 9203, 316139, 0, -5, 2147483647];

    private static Gen<string> Text => Gen.OneOf(Gen.OneOf(Hostile).Select(Json), Gen.String.Select(Json));

    private static string Json(string value) => System.Text.Json.JsonSerializer.Serialize(value);

    private static Gen<string> Number => Gen.OneOf(
        Gen.Int[-40, 120].Select(i => i.ToString(CultureInfo.InvariantCulture)),
        Gen.OneOf("1e308", "-0", "2.5", "99999999999999999999", "1.0", "null", "true", "[]", "{}"));

    private static Gen<string> AnyValue => Gen.OneOf(Text, Number, Gen.OneOf(Concepts).Select(c => c.ToString(CultureInfo.InvariantCulture)));

    private static Gen<string> ConceptList => Gen.OneOf(
        Gen.OneOf(Concepts).Select(id => $$"""{"id": {{id}}}""").Array[1, 3].Select(items => "[" + string.Join(",", items) + "]"),
        Gen.Int[1, 2].Select(_ => "[" + string.Join(",", Enumerable.Range(1, 600).Select(i => $$"""{"id": {{i}}}""")) + "]"),
        Gen.OneOf(Concepts).Select(id => $$"""[{"id": {{id}}, "descendants": false, "exclude": true}, {"id": 192671}]"""),
        AnyValue.Select(v => $$"""[{"id": {{v}}}]"""),
        Gen.OneOf(Concepts).Array[1, 3].Select(ids => "[" + string.Join(",", ids) + "]"));

    private static Gen<string> Window => Gen.OneOf(
        Gen.Int[-400, 30].SelectMany(s => Gen.Int[-30, 30].Select(e => $$"""{"start": {{s}}, "end": {{e}}}""")),
        Gen.Int[1970, 2015].Select(y => $$"""{"from": "{{y}}-01-01", "to": "{{y + 5}}-12-31"}"""),
        AnyValue.Select(v => $$"""{"days": {{v}}}"""),
        AnyValue.Select(v => $$"""{"start": {{v}}}"""));

    private static Gen<string> Leaf => Gen.OneOf(
        Gen.OneOf(Kinds).SelectMany(kind => ConceptList.SelectMany(concepts => Window.SelectMany(window =>
            Gen.Int[0, 7].Select(extras => Fields(kind, concepts, window, extras))))),
        Gen.OneOf(Kinds).SelectMany(kind => Text.SelectMany(t => AnyValue.Select(v =>
            $$$"""{"kind": "{{{kind.Replace("\"", "", StringComparison.Ordinal)}}}", "gene": {{{t}}}, "rsid": [{{{t}}}], "hgvsC": [{{{t}}}], "significance": [{{{t}}}], "scoreId": {{{t}}}, "metric": {{{t}}}, "mean": {"lt": {{{v}}}}}"""))),
        AnyValue.Select(v => $$"""{"kind": {{v}}}"""),
        Text.Select(t => $$"""{{{t}}: 1}"""));

    private static string Fields(string kind, string concepts, string window, int extras)
    {
        var fields = new List<string> { $"\"kind\": {Json(kind)}" };
        if (kind is "sex" or "race" or "ethnicity")
        {
            fields.Add("\"concepts\": [8507, 8532]");
        }
        else if (kind == "age")
        {
            fields.Add("\"min\": 18");
        }
        else
        {
            fields.Add($"\"concepts\": {concepts}");
        }

        if ((extras & 1) != 0)
        {
            fields.Add($"\"window\": {window}");
        }

        if ((extras & 2) != 0)
        {
            fields.Add(kind is "measurement" or "observation" or "pro" ? "\"value\": {\"gte\": 1}" : "\"count\": {\"min\": 2, \"max\": 4}");
        }

        if ((extras & 4) != 0)
        {
            fields.Add("\"occurrence\": \"first\"");
        }

        return "{" + string.Join(", ", fields) + "}";
    }

    /// <summary>Leaves that are mostly valid on a source without index: calendar windows, counts, values, every kind that needs no index.</summary>
    private static Gen<string> SaneLeaf => Gen.OneOf(
        Gen.OneOf("condition", "drug", "procedure", "observation", "measurement", "visit").SelectMany(kind =>
            Gen.OneOf(192671, 28060, 1118084, 1124300, 9201, 9202, 9203, 80180, 260139).Array[1, 3].SelectMany(ids =>
                Gen.Int[1960, 2015].SelectMany(year => Gen.Int[0, 7].Select(extras =>
                {
                    var concepts = "[" + string.Join(",", ids.Select(id => $$"""{"id": {{id}}}""")) + "]";
                    return Fields(kind, concepts, $$"""{"from": "{{year}}-01-01", "to": "{{year + 10}}-12-31"}""", extras);
                })))),
        Gen.OneOf("sex", "race", "ethnicity").Select(kind => Fields(kind, "", "", 0)),
        Gen.Int[1, 3].Select(min => $$$"""{"kind": "condition", "concepts": [{"id": 28060}], "count": {"min": {{{min}}}, "max": {{{min + 1}}}}}"""),
        Gen.OneOf("TTR", "APOE").Select(gene => $$"""{"kind": "variant", "gene": "{{gene}}", "significance": ["pathogenic"]}"""),
        Gen.Int[1990, 2015].Select(year =>
            $$$"""{"kind": "adherence", "concepts": [{"id": 1118084}, {"id": 1124300}], "window": {"from": "{{{year}}}-01-01", "to": "{{{year + 2}}}-12-31"}, "pdc": {"gte": 0.05}}"""));

    private static Gen<string> SaneNode(int depth) => depth <= 0
        ? SaneLeaf
        : Gen.Frequency(
            (3, SaneLeaf),
            (1, SaneNode(depth - 1).Array[1, 3].Select(nodes => $$"""{"all": [{{string.Join(",", nodes)}}]}""")),
            (1, SaneNode(depth - 1).Array[1, 3].Select(nodes => $$"""{"any": [{{string.Join(",", nodes)}}]}""")),
            (1, SaneNode(depth - 1).Select(node => $$"""{"not": {{node}}}""")));

    private static Gen<string> Node(int depth) => depth <= 0
        ? Leaf
        : Gen.Frequency(
            (4, Leaf),
            (1, Node(depth - 1).Array[1, 3].Select(nodes => $$"""{"all": [{{string.Join(",", nodes)}}]}""")),
            (1, Node(depth - 1).Array[1, 3].Select(nodes => $$"""{"any": [{{string.Join(",", nodes)}}]}""")),
            (1, Node(depth - 1).Select(node => $$"""{"not": {{node}}}""")),
            (1, Gen.Int[9, 40].Select(Deep)));

    private static string Deep(int levels)
    {
        var node = """{"kind": "sex", "concepts": [8507]}""";
        for (var i = 0; i < levels; i++)
        {
            node = i % 2 == 0 ? $$"""{"all": [{{node}}]}""" : $$"""{"not": {{node}}}""";
        }

        return node;
    }

    private static Gen<string> Document => Node(3).Array[0, 4].SelectMany(criteria => Gen.Int[0, 5].Select(shape => shape switch
    {
        0 => $$"""{"version": 1, "index": {"kind": "drug", "concepts": [{"id": 1118084}]}, "criteria": [{{string.Join(",", criteria)}}]}""",
        1 => $$"""{"version": 1, "criteria": [{{string.Join(",", criteria)}}], "extra": true}""",
        2 => $$"""{"version": "1", "criteria": [{{string.Join(",", criteria)}}]}""",
        3 => $$"""{"version": 1, "criteria": [{{string.Join(",", criteria)}}""",
        _ => $$"""{"version": 1, "criteria": [{{string.Join(",", criteria)}}]}""",
    }));

    [Fact]
    public void Random_and_hostile_documents_are_refused_or_compile_to_sql_with_consent_and_no_text_of_theirs()
    {
        var valid = 0;
        Document.Sample(json =>
        {
            var result = SubgroupDefinitionParser.Parse(json);
            if (!result.IsValid)
            {
                Assert.NotEmpty(result.Errors);
                return;
            }

            valid++;
            var compiled = SubgroupCompiler.Compile(result.Definition!, "cdm_eunomia", "eunomia", "research");
            var members = SubgroupCompiler.CompileMembers(result.Definition!, "cdm_eunomia", "eunomia", "research");
            foreach (var statement in new[] { compiled, members })
            {
                // Consent in both bodies: the CDM-table body joins the filter, the aggregated body the bitmap; every
                // population row is flagged, and members and counts take only consented rows.
                Assert.Single(Regex.Matches(statement.Sql, Regex.Escape(SubgroupCompiler.ConsentFilter)));
                Assert.Single(Regex.Matches(statement.Sql, Regex.Escape(SubgroupCompiler.ConsentBitmap)));
                Assert.Contains("LEFT JOIN gov.consented_persons(@source, @purpose) c ON c.person_id = b.person_id", statement.Sql, StringComparison.Ordinal);
                Assert.Equal(1, Regex.Count(statement.Sql, Regex.Escape("LEFT JOIN consent_words cw ON cw.word = b.person_id >> 6")));
                Assert.DoesNotContain("'", statement.Sql, StringComparison.Ordinal);
                Assert.DoesNotContain(";", statement.Sql, StringComparison.Ordinal);
                Assert.DoesNotContain("--", statement.Sql, StringComparison.Ordinal);
                Assert.Equal(result.Definition!.Criteria.Count + 1, statement.Steps.Count);
            }

            // The count alone (decision 0745) in each of its forms: both consent filters, no text of the definition.
            foreach (var driver in new int?[] { null }.Concat(SubgroupCompiler.CountDrivers(result.Definition!, "cdm_eunomia").Select(d => (int?)d.Criterion)))
            {
                var count = SubgroupCompiler.CompileCount(result.Definition!, "cdm_eunomia", "eunomia", "research", driver);
                Assert.Single(Regex.Matches(count.Sql, Regex.Escape(SubgroupCompiler.ConsentFilter)));
                Assert.Single(Regex.Matches(count.Sql, Regex.Escape(SubgroupCompiler.ConsentBitmap)));
                Assert.Contains("consent_words cw ON cw.word = ", count.Sql, StringComparison.Ordinal);
                Assert.DoesNotContain("'", count.Sql, StringComparison.Ordinal);
                Assert.DoesNotContain(";", count.Sql, StringComparison.Ordinal);
                Assert.DoesNotContain("--", count.Sql, StringComparison.Ordinal);
            }

            Assert.Equal(2, Regex.Count(members.Sql, "WHERE consented AND "));
            Assert.Equal(2, Regex.Count(compiled.Sql, @"count\(\*\) FILTER \(WHERE consented\) AS consented"));
        }, iter: 3000, threads: 1);

        Assert.True(valid > 100, $"the generator reaches valid definitions too ({valid})");
    }

    [Fact]
    public async Task Valid_random_definitions_count_without_sql_errors_and_obey_the_laws_of_the_tree()
    {
        var counter = new SubgroupCounter(fixture.Reader);
        var everyone = (await fixture.CountAsync(fixture.EunomiaSource, """{"version": 1, "criteria": []}""")).Count;
        var checkedPairs = 0;
        var pairs = SaneNode(2).SelectMany(a => SaneNode(2).Select(b => (a, b)));
        await pairs.SampleAsync(async (a, b) =>
        {
            var parsedA = SubgroupDefinitionParser.Parse($$"""{"version": 1, "criteria": [{{a}}]}""");
            var parsedB = SubgroupDefinitionParser.Parse($$"""{"version": 1, "criteria": [{{b}}]}""");
            if (!parsedA.IsValid || !parsedB.IsValid)
            {
                return;
            }

            async Task<long> Count(string criteria)
            {
                var definition = SubgroupDefinitionParser.Parse($$"""{"version": 1, "criteria": [{{criteria}}]}""");
                Assert.True(definition.IsValid, string.Join("; ", definition.Errors));
                try
                {
                    var result = await counter.CountAsync(definition.Definition!, fixture.EunomiaSource, "research", CancellationToken.None);
                    Assert.True(result.Attrition.Zip(result.Attrition.Skip(1)).All(p => p.First.Remaining >= p.Second.Remaining));
                    // The count alone (decision 0745) is the funnel's last step.
                    var alone = await counter.CountTotalAsync(definition.Definition!, fixture.EunomiaSource, "research", CancellationToken.None);
                    Assert.True(alone.Count == result.Count && alone.RemovedByConsent == result.RemovedByConsent,
                        $"count alone {alone.Count} (removed {alone.RemovedByConsent}) vs funnel {result.Count} (removed {result.RemovedByConsent}): {criteria}");
                    return result.Count;
                }
                catch (PostgresException e)
                {
                    Assert.Fail($"SQL error {e.SqlState} {e.MessageText} for {criteria}");
                    throw;
                }
            }

            var countA = await Count(a);
            var countB = await Count(b);
            Assert.Equal(everyone, countA + await Count($$"""{"not": {{a}}}"""));
            var both = await Count($$"""{"all": [{{a}}, {{b}}]}""");
            Assert.Equal(both, await Count($"{a}, {b}"));
            Assert.Equal(countA + countB - both, await Count($$"""{"any": [{{a}}, {{b}}]}"""));
            checkedPairs++;
        }, iter: 60, threads: 1);

        Assert.True(checkedPairs > 30, $"enough valid pairs were counted ({checkedPairs})");
    }
}
