using System.Text.RegularExpressions;
using RwePortal.Warehouse.Cohorts;

namespace RwePortal.Warehouse.Tests.Cohorts;

/// <summary>The statement's shape: one statement, consent always joined, values only as parameters, joins on person_id.</summary>
public sealed partial class SubgroupCompilerTests
{
    private const string EveryKind = """
        {"version": 1,
         "index": {"kind": "drug", "concepts": [{"id": 2000000402}, {"id": 1341927, "descendants": false}], "occurrence": "first", "window": {"from": "2015-01-01"}},
         "criteria": [
           {"kind": "age", "min": 50, "max": 90},
           {"kind": "sex", "concepts": [8532]},
           {"kind": "race", "concepts": [8516]},
           {"kind": "ethnicity", "concepts": [38003564]},
           {"kind": "condition", "concepts": [{"id": 316139}, {"id": 2000000105, "exclude": true}], "window": {"end": -1}, "count": {"min": 2}},
           {"kind": "procedure", "concepts": [{"id": 1}], "occurrence": "last", "window": {"start": -365, "end": 0}},
           {"kind": "observation", "concepts": [{"id": 2}], "value": {"gt": 1}},
           {"kind": "measurement", "concepts": [{"id": 2000000201}], "value": {"lte": 40}, "units": [8554]},
           {"kind": "visit", "concepts": [{"id": 9203}], "window": {"start": -180, "end": -1}, "count": {"min": 2, "max": 5}},
           {"kind": "pro", "concepts": [{"id": 2000000501}], "value": {"lte": 50}, "window": {"start": -90, "end": 0}},
           {"kind": "variant", "gene": "TTR", "hgvsC": ["c.424G>A"], "hgvsP": ["p.Val142Ile"], "rsid": ["rs76992529"], "zygosity": ["heterozygous"], "significance": ["pathogenic"]},
           {"kind": "genomicScore", "scoreId": "RWE-PRS-HF-1", "percentile": {"gte": 90}},
           {"kind": "wearable", "metric": "hrv", "mean": {"gte": 20, "lt": 80}, "minDaysWorn": 7, "window": {"start": -30, "end": -1}},
           {"kind": "enrollment", "window": {"from": "2010-01-01", "to": "2010-12-31"}, "allowedGapDays": 30},
           {"kind": "adherence", "concepts": [{"id": 2000000402}], "window": {"start": 0, "end": 179}, "pdc": {"gte": 0.8}},
           {"any": [{"not": {"kind": "sex", "concepts": [8507]}}, {"all": [{"kind": "drug", "concepts": [{"id": 956874}]}]}]}
         ]}
        """;

    private static CompiledSubgroup Compile(string json, string schema = "cdm_synthetic") =>
        SubgroupCompiler.Compile(CohortWarehouseFixture.Definition(json), schema, "synthetic", "research");

    [Fact]
    public void Every_kind_compiles_to_one_statement_with_the_consent_filter_and_one_step_per_top_level_criterion()
    {
        var compiled = Compile(EveryKind);

        Assert.Single(Regex.Matches(compiled.Sql, Regex.Escape(SubgroupCompiler.ConsentFilter)));
        Assert.Contains("LEFT JOIN gov.consented_persons(@source, @purpose) c ON c.person_id = b.person_id", compiled.Sql, StringComparison.Ordinal);
        // The aggregated body flags every population row from the consent bitmap instead.
        Assert.Single(Regex.Matches(compiled.Sql, Regex.Escape(SubgroupCompiler.ConsentBitmap)));
        Assert.Contains("SELECT cb.word, cb.bits FROM gov.consent_bitmap(@source, @purpose) cb", compiled.Sql, StringComparison.Ordinal);
        Assert.Equal(1, Regex.Count(compiled.Sql, Regex.Escape("LEFT JOIN consent_words cw ON cw.word = b.person_id >> 6")));
        Assert.Contains("population AS MATERIALIZED", compiled.Sql, StringComparison.Ordinal);
        Assert.DoesNotContain(";", compiled.Sql, StringComparison.Ordinal);
        Assert.Equal(17, compiled.Steps.Count);
        Assert.Equal("index event, consented", compiled.Steps[0]);
        Assert.Equal("criteria[15]: any of 2", compiled.Steps[16]);
        Assert.Equal(("source", "synthetic"), (compiled.Parameters[0].Name, compiled.Parameters[0].Value));
        Assert.Equal(("purpose", "research"), (compiled.Parameters[1].Name, compiled.Parameters[1].Value));
    }

    [Fact]
    public void Values_are_parameters_and_never_sql_text()
    {
        var compiled = Compile(EveryKind);

        foreach (var text in new[] { "TTR", "c.424G>A", "p.Val142Ile", "rs76992529", "RWE-PRS-HF-1", "heterozygous", "pathogenic", "316139", "2000000402", "2015-01-01", "365" })
        {
            Assert.DoesNotContain(text, compiled.Sql, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("'", compiled.Sql, StringComparison.Ordinal);
        Assert.Contains(compiled.Parameters, p => p.Value is string s && s == "TTR");
        Assert.Contains(compiled.Parameters, p => p.Value is string[] a && a.SequenceEqual(["c.424G>A"]));
        Assert.Contains(compiled.Parameters, p => p.Value is int[] a && a.SequenceEqual([316139]));
        Assert.Contains(compiled.Parameters, p => p.Value is DateOnly d && d == new DateOnly(2015, 1, 1));
        Assert.Contains(compiled.Parameters, p => p.Value is int i && i == -365);
        // Every @name in the statement is a parameter, and every parameter is used.
        var used = ParameterName().Matches(compiled.Sql).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var declared = compiled.Parameters.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        Assert.Empty(declared.Except(used));
        Assert.Empty(used.Except(declared));
    }

    [Fact]
    public void Person_level_tables_are_read_for_the_population_row_by_person_id_only()
    {
        var compiled = Compile(EveryKind);

        foreach (var table in new[] { "condition_occurrence", "drug_exposure", "procedure_occurrence", "observation", "measurement", "visit_occurrence", "variant_occurrence", "genomic_score", "wearable_daily", "payer_plan_period" })
        {
            Assert.Contains($"\"cdm_synthetic\".{table}", compiled.Sql, StringComparison.Ordinal);
        }

        // Correlations name person_id on both sides; no join compares a person-level table on anything else.
        Assert.DoesNotMatch(JoinOnOtherColumn(), compiled.Sql);
        Assert.Matches("x\\.person_id = b\\.person_id", compiled.Sql);
        Assert.Matches("concept_ancestor ca WHERE ca\\.ancestor_concept_id = ANY", compiled.Sql);
    }

    [Theory]
    [InlineData("cdm_synthetic\"; DROP TABLE person; --")]
    [InlineData("public")]
    [InlineData("")]
    public void Only_a_valid_cdm_schema_name_is_written_into_the_statement(string schema)
    {
        Assert.ThrowsAny<ArgumentException>(() => Compile("""{"version": 1, "criteria": []}""", schema));
    }

    [Fact]
    public void Without_criteria_the_statement_counts_the_consented_persons()
    {
        var compiled = Compile("""{"version": 1, "criteria": []}""");

        Assert.Equal(["all persons, consented"], compiled.Steps);
        Assert.Contains("count(*) FILTER (WHERE true) AS matched_before_consent", compiled.Sql, StringComparison.Ordinal);
        Assert.Contains(SubgroupCompiler.ConsentFilter, compiled.Sql, StringComparison.Ordinal);
    }

    [GeneratedRegex("@([a-z0-9_]+)")]
    private static partial Regex ParameterName();

    [GeneratedRegex(@"JOIN\s+""cdm_synthetic""\.(?!person\b|concept_ancestor\b)\w+\s+\w+\s+ON\s+(?!\w+\.person_id = b\.person_id)")]
    private static partial Regex JoinOnOtherColumn();
}
