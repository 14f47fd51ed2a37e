using CsCheck;
using RwePortal.Warehouse.Cohorts;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Warehouse.Tests.Cohorts;

/// <summary>
/// The pre-aggregated path (agg_event, person sets) against the CDM-table path on the same source: every number of a
/// count (persons, consented, each attrition step, removed by consent) is the same, for definitions chosen to reach
/// every set form (first / last / any with upper or lower bounds, counts, one-sided values with units, PRO, variant,
/// genomic score, not; wearable windows asked only within worn spans; enrollment per person) and for random combinations of them; a write to a summarised table sends counts back to the
/// CDM tables until the loaders rebuild.
/// </summary>
[Collection(CohortWarehouseCollection.Name)]
public sealed class SubgroupAggregateTests(CohortWarehouseFixture fixture)
{
    private const string Index = """{"kind": "drug", "concepts": [{"id": 2000000402}, {"id": 1341927}], "occurrence": "first"}""";

    private static readonly string[] Leaves =
    [
        """{"kind": "condition", "concepts": [{"id": 316139}]}""",
        """{"kind": "condition", "concepts": [{"id": 316139}], "window": {"end": -1}}""",
        """{"kind": "condition", "concepts": [{"id": 316139}], "window": {"start": 0}}""",
        """{"kind": "condition", "concepts": [{"id": 316139}], "window": {"to": "2021-06-30"}}""",
        """{"kind": "condition", "concepts": [{"id": 316139}], "occurrence": "first", "window": {"start": -730, "end": -1}}""",
        """{"kind": "condition", "concepts": [{"id": 316139}], "occurrence": "last", "window": {"from": "2022-01-01"}}""",
        """{"kind": "condition", "concepts": [{"id": 316139}], "count": {"min": 2, "max": 4}}""",
        """{"kind": "condition", "concepts": [{"id": 316139}, {"id": 2000000105, "exclude": true}], "count": {"min": 3}}""",
        """{"kind": "drug", "concepts": [{"id": 2000000402}], "window": {"start": -365, "end": -1}}""",
        """{"kind": "measurement", "concepts": [{"id": 2000000201}], "value": {"lte": 40}, "units": [8554]}""",
        """{"kind": "measurement", "concepts": [{"id": 2000000201}], "value": {"gt": 50}}""",
        """{"kind": "measurement", "concepts": [{"id": 2000000201}], "value": {"gte": 30, "lt": 45}}""",
        """{"kind": "pro", "concepts": [{"id": 2000000501}], "value": {"lte": 50}}""",
        """{"kind": "visit", "concepts": [{"id": 9201}], "count": {"min": 2}}""",
        """{"kind": "variant", "gene": "TTR", "significance": ["pathogenic", "likely_pathogenic"]}""",
        """{"kind": "variant", "gene": "TTR", "count": {"min": 1, "max": 1}}""",
        """{"kind": "genomicScore", "scoreId": "RWE-PRS-HF-1", "percentile": {"gte": 80}}""",
        """{"not": {"kind": "variant", "gene": "TTR"}}""",
        """{"not": {"kind": "condition", "concepts": [{"id": 316139}], "window": {"end": -1}}}""",
        """{"kind": "sex", "concepts": [8532]}""",
        """{"kind": "age", "min": 65}""",
        """{"kind": "enrollment", "window": {"start": -365, "end": -1}, "allowedGapDays": 30}""",
        """{"kind": "enrollment", "window": {"from": "2022-01-01", "to": "2022-12-31"}, "allowedGapDays": 30}""",
        """{"kind": "enrollment", "window": {"from": "2021-03-01", "to": "2023-02-28"}}""",
        """{"kind": "enrollment", "window": {"from": "2022-01-01", "to": "2022-12-31"}}""",
        """{"kind": "enrollment", "window": {"from": "2020-06-15", "to": "2023-06-14"}, "allowedGapDays": 90}""",
        """{"not": {"kind": "enrollment", "window": {"from": "2022-01-01", "to": "2022-12-31"}, "allowedGapDays": 30}}""",
        """{"kind": "wearable", "metric": "steps", "mean": {"lt": 4000}, "minDaysWorn": 30, "window": {"from": "2023-01-01", "to": "2023-12-31"}}""",
        """{"kind": "wearable", "metric": "steps", "mean": {"lt": 5000}, "minDaysWorn": 5, "window": {"start": -90, "end": -1}}""",
        """{"kind": "wearable", "metric": "steps", "minDaysWorn": 3, "window": {"start": -30, "end": -1}, "baseline": {"window": {"start": -120, "end": -91}, "changePercent": {"lte": -10}}}""",
        """{"kind": "wearable", "metric": "restingHeartRate", "mean": {"gte": 60, "lte": 80}, "window": {"from": "2022-01-01", "to": "2022-06-30"}}""",
        """{"not": {"kind": "wearable", "metric": "hrv", "mean": {"gt": 30}, "minDaysWorn": 5, "window": {"from": "2023-01-01", "to": "2023-03-31"}}}""",
        """{"kind": "wearable", "metric": "sleepMinutes", "mean": {"gte": 420}, "minDaysWorn": 20, "window": {"from": "2022-11-01", "to": "2023-02-28"}}""",
        """{"kind": "wearable", "metric": "steps", "mean": {"gte": 6000}, "minDaysWorn": 1, "window": {"from": "2023-02-01", "to": "2023-02-28"}}""",
        """{"kind": "wearable", "metric": "steps", "mean": {"lt": 4000}, "minDaysWorn": 10, "window": {"from": "2023-01-15", "to": "2023-03-31"}}""",
        """{"any": [{"kind": "variant", "gene": "TTR"}, {"kind": "pro", "concepts": [{"id": 2000000501}], "value": {"lte": 40}}]}""",
    ];

    private async Task<(SubgroupCount Fast, SubgroupCount Tables)> BothPathsAsync(DataSource source, string json)
    {
        var fast = await fixture.CountAsync(source, json);
        await AssertTotalAsync(source, json, fast);
        await fixture.OwnerSqlAsync("UPDATE gov.warehouse_aggregates SET fresh = false WHERE schema_name = @schema", new { schema = source.SchemaName });
        try
        {
            var tables = await fixture.CountAsync(source, json);
            await AssertTotalAsync(source, json, tables);
            return (fast, tables);
        }
        finally
        {
            await fixture.OwnerSqlAsync("UPDATE gov.warehouse_aggregates SET fresh = true WHERE schema_name = @schema", new { schema = source.SchemaName });
        }
    }

    /// <summary>The count alone (words, driven or the funnel's body) is the funnel's last step and removal.</summary>
    private async Task<SubgroupTotal> AssertTotalAsync(DataSource source, string json, SubgroupCount funnel)
    {
        var total = await new SubgroupCounter(fixture.Reader).CountTotalAsync(CohortWarehouseFixture.Definition(json), source, "research", CancellationToken.None);
        Assert.True(funnel.Count == total.Count, $"count {total.Count} alone vs {funnel.Count} in the funnel (driver {total.Driver}): {json}");
        Assert.True(funnel.RemovedByConsent == total.RemovedByConsent, $"removed {total.RemovedByConsent} alone vs {funnel.RemovedByConsent} in the funnel: {json}");
        return total;
    }

    private static void AssertSame(SubgroupCount fast, SubgroupCount tables, string json)
    {
        Assert.True(tables.Persons == fast.Persons, $"persons {fast.Persons} vs {tables.Persons}: {json}");
        Assert.True(tables.RemovedByConsent == fast.RemovedByConsent, $"removed {fast.RemovedByConsent} vs {tables.RemovedByConsent}: {json}");
        Assert.True(
            tables.Attrition.Select(s => s.Remaining).SequenceEqual(fast.Attrition.Select(s => s.Remaining)),
            $"attrition {string.Join(",", fast.Attrition.Select(s => s.Remaining))} vs {string.Join(",", tables.Attrition.Select(s => s.Remaining))}: {json}");
    }

    [Fact]
    public async Task The_synthetic_source_is_aggregated_and_fresh_after_its_load()
    {
        var fresh = await fixture.OwnerCountAsync(
            "SELECT count(*) FROM gov.warehouse_aggregates WHERE schema_name = @schema AND fresh", new { schema = fixture.SyntheticSource.SchemaName });
        var rows = await fixture.OwnerCountAsync("SELECT count(*) FROM cdm_syn.agg_event");
        var expected = await fixture.OwnerCountAsync(
            "SELECT count(*) FROM (SELECT DISTINCT condition_concept_id, person_id FROM cdm_syn.condition_occurrence) x");
        var conditions = await fixture.OwnerCountAsync("SELECT count(*) FROM cdm_syn.agg_event WHERE domain = 1");

        Assert.Equal(1, fresh);
        Assert.True(rows > 10_000, $"the summary has rows ({rows})");
        Assert.Equal(expected, conditions);
    }

    [Fact]
    public async Task Each_set_form_counts_as_the_cdm_tables_do_with_and_without_index()
    {
        foreach (var leaf in Leaves)
        {
            foreach (var json in new[]
            {
                $$"""{"version": 1, "index": {{Index}}, "criteria": [{{leaf}}]}""",
                $$"""{"version": 1, "criteria": [{{leaf}}]}""",
            })
            {
                if (!SubgroupDefinitionParser.Parse(json).IsValid)
                {
                    // Relative windows need the index; age needs it too.
                    Assert.DoesNotContain("\"index\"", json, StringComparison.Ordinal);
                    continue;
                }

                var (fast, tables) = await BothPathsAsync(fixture.SyntheticSource, json);
                AssertSame(fast, tables, json);
            }
        }
    }

    [Fact]
    public async Task Random_combinations_count_as_the_cdm_tables_do()
    {
        var checkedDefinitions = 0;
        var definitions = Gen.OneOf(Leaves).Array[1, 4].SelectMany(leaves => Gen.Bool.Select(indexed => (leaves, indexed)));
        await definitions.SampleAsync(async (leaves, indexed) =>
        {
            var json = indexed
                ? $$"""{"version": 1, "index": {{Index}}, "criteria": [{{string.Join(",", leaves)}}]}"""
                : $$"""{"version": 1, "criteria": [{{string.Join(",", leaves)}}]}""";
            if (!SubgroupDefinitionParser.Parse(json).IsValid)
            {
                return;
            }

            var (fast, tables) = await BothPathsAsync(fixture.SyntheticSource, json);
            AssertSame(fast, tables, json);
            checkedDefinitions++;
        }, iter: 25, threads: 1);

        Assert.True(checkedDefinitions > 10, $"enough valid combinations were counted ({checkedDefinitions})");
    }

    [Fact]
    public async Task Eunomia_examples_count_the_same_on_both_paths()
    {
        foreach (var example in new[] { "eunomia-gi-bleed.json", "eunomia-celecoxib-new-users.json" })
        {
            var json = Examples.Read(example);
            var (fast, tables) = await BothPathsAsync(fixture.EunomiaSource, json);
            AssertSame(fast, tables, json);
        }
    }

    [Fact]
    public async Task While_fresh_the_count_reads_the_summary_and_not_the_event_table()
    {
        var definition = CohortWarehouseFixture.Definition(Examples.Read("synthetic-heart-failure.json"));

        var plan = string.Join('\n', await new SubgroupCounter(fixture.Reader).ExplainAsync(definition, fixture.SyntheticSource, "research", CancellationToken.None));

        var lines = plan.Split('\n');
        Assert.Contains(lines, line => line.Contains("agg_event", StringComparison.Ordinal) && line.Contains("actual time=", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, line => line.Contains("condition_occurrence", StringComparison.Ordinal) && line.Contains("actual time=", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"kind": "measurement", "concepts": [{"id": 2000000201}], "value": {"lte": 40}, "units": [8554]}""")]
    [InlineData("""{"kind": "measurement", "concepts": [{"id": 2000000201}], "value": {"gt": 50}}""")]
    [InlineData("""{"kind": "pro", "concepts": [{"id": 2000000501}], "value": {"lte": 50}}""")]
    public async Task A_one_sided_value_range_reads_the_value_summary_and_counts_as_the_cdm_tables_do(string leaf)
    {
        var json = $$"""{"version": 1, "criteria": [{{leaf}}]}""";
        var definition = CohortWarehouseFixture.Definition(json);

        var lines = (await new SubgroupCounter(fixture.Reader).ExplainTotalAsync(definition, fixture.SyntheticSource, "research", CancellationToken.None))
            .Where(line => line.Contains("actual time=", StringComparison.Ordinal)).ToList();
        var (fast, tables) = await BothPathsAsync(fixture.SyntheticSource, json);

        Assert.Contains(lines, line => line.Contains(" agg_event_value ", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, line => line.Contains(" agg_event ", StringComparison.Ordinal));
        Assert.True(fast.Count > 10, $"persons match ({fast.Count})");
        AssertSame(fast, tables, json);
    }

    [Fact]
    public async Task Enrollment_spans_count_gaps_as_the_uncovered_days_of_the_window_on_both_paths()
    {
        const string Name = "aggenroll";
        var registry = new DataSourceRegistry(fixture.Owner);
        var source = await registry.FindAsync(Name, CancellationToken.None) ?? await registry.AddAsync(Name, "enrollment spans test", CancellationToken.None);
        // Persons 1-11 against 2022 (hand-checked): 1 one period; 2 two touching periods; 3 20 days uncovered in June;
        // 4 starts 30 days late; 5 ends 30 days early; 6 overlapping periods; 7 a contained period, then 19 days
        // uncovered; 8 14 days uncovered in January after a period ending in 2021 (35 days apart); 9 a period that ends
        // before it starts; 10 no period; 11 45 days uncovered.
        await fixture.OwnerSqlAsync($"""
            TRUNCATE cdm_{Name}.person, cdm_{Name}.payer_plan_period;
            DELETE FROM gov.consent_model WHERE source = '{Name}';
            INSERT INTO cdm_{Name}.person (person_id, gender_concept_id, year_of_birth, race_concept_id, ethnicity_concept_id)
            SELECT g, 8507, 1960, 0, 0 FROM generate_series(1, 11) g;
            INSERT INTO cdm_{Name}.payer_plan_period (payer_plan_period_id, person_id, payer_plan_period_start_date, payer_plan_period_end_date)
            VALUES (1, 1, DATE '2022-01-01', DATE '2022-12-31'),
                   (2, 2, DATE '2021-06-01', DATE '2022-06-30'), (3, 2, DATE '2022-07-01', DATE '2023-01-31'),
                   (4, 3, DATE '2021-01-01', DATE '2022-05-31'), (5, 3, DATE '2022-06-21', DATE '2022-12-31'),
                   (6, 4, DATE '2022-01-31', DATE '2022-12-31'),
                   (7, 5, DATE '2022-01-01', DATE '2022-12-01'),
                   (8, 6, DATE '2022-01-01', DATE '2022-03-31'), (9, 6, DATE '2022-02-01', DATE '2022-12-31'),
                   (10, 7, DATE '2022-01-01', DATE '2022-04-30'), (11, 7, DATE '2022-03-01', DATE '2022-04-15'), (12, 7, DATE '2022-05-20', DATE '2022-12-31'),
                   (13, 8, DATE '2020-01-01', DATE '2021-12-10'), (14, 8, DATE '2022-01-15', DATE '2022-12-31'),
                   (15, 9, DATE '2022-12-31', DATE '2022-01-01'),
                   (16, 11, DATE '2022-01-01', DATE '2022-06-30'), (17, 11, DATE '2022-08-15', DATE '2022-12-31');
            INSERT INTO gov.consent_model (source, purpose, model, reference, set_by) VALUES ('{Name}', 'research', 'waiver', 'IRB-AGG-2', 'test');
            """);
        await using (var connection = await fixture.Owner.OpenConnectionAsync())
        {
            await SubgroupAggregates.RebuildAsync(connection, source.SchemaName, CancellationToken.None);
            await SubgroupAggregates.RefreshConsentAsync(connection, Name, CancellationToken.None);
        }

        var expected = new Dictionary<int, long> { [0] = 3, [13] = 3, [14] = 4, [19] = 5, [20] = 6, [29] = 6, [30] = 8, [44] = 8, [45] = 9, [365] = 9 };
        foreach (var (gap, persons) in expected)
        {
            var json = $$"""{"version": 1, "criteria": [{"kind": "enrollment", "window": {"from": "2022-01-01", "to": "2022-12-31"}, "allowedGapDays": {{gap}}}]}""";
            var plan = string.Join('\n', await new SubgroupCounter(fixture.Reader).ExplainAsync(
                CohortWarehouseFixture.Definition(json), source, "research", CancellationToken.None));
            var (fast, tables) = await BothPathsAsync(source, json);

            Assert.True(persons == fast.Count, $"gap {gap}: {fast.Count} from the spans, {persons} by hand");
            Assert.True(persons == tables.Count, $"gap {gap}: {tables.Count} from payer_plan_period, {persons} by hand");
            // A calendar year reads the year words (decision 0746), not the spans.
            Assert.Contains(plan.Split('\n'), line => line.Contains("agg_enrollment_year_words y", StringComparison.Ordinal) && line.Contains("actual time=", StringComparison.Ordinal));
            Assert.DoesNotContain(plan.Split('\n'), line => line.Contains("agg_enrollment_span", StringComparison.Ordinal) && line.Contains("actual time=", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("2023-01-01", "2023-12-31", "agg_wearable_year")]
    [InlineData("2023-01-01", "2023-06-30", "agg_wearable_month")]
    [InlineData("2022-01-01", "2023-12-31", "agg_wearable_month")]
    [InlineData("2023-01-15", "2023-12-31", "wearable_daily")]
    [InlineData("2023-01-01", "2023-12-30", "wearable_daily")]
    public async Task A_wearable_window_of_one_year_or_whole_months_reads_its_summary_and_counts_as_the_days_do(string from, string to, string table)
    {
        var json = $$$"""{"version": 1, "criteria": [{"kind": "wearable", "metric": "steps", "mean": {"lt": 5000}, "minDaysWorn": 30, "window": {"from": "{{{from}}}", "to": "{{{to}}}"}}]}""";
        var plan = string.Join('\n', await new SubgroupCounter(fixture.Reader).ExplainAsync(
            CohortWarehouseFixture.Definition(json), fixture.SyntheticSource, "research", CancellationToken.None));
        var (fast, tables) = await BothPathsAsync(fixture.SyntheticSource, json);

        var lines = plan.Split('\n').Where(line => line.Contains("actual time=", StringComparison.Ordinal)).ToList();
        foreach (var read in new[] { "agg_wearable_year", "agg_wearable_month", "wearable_daily" })
        {
            Assert.Equal(read == table, lines.Any(line => line.Contains(" " + read + " ", StringComparison.Ordinal)));
        }

        Assert.True(fast.Count > 10, $"persons match ({fast.Count})");
        AssertSame(fast, tables, json);
    }

    [Fact]
    public async Task A_count_without_index_of_person_sets_is_word_operations_only_and_equals_the_funnel()
    {
        var definition = CohortWarehouseFixture.Definition(Examples.Read("synthetic-heart-failure.json"));
        var json = """{"version": 1, "criteria": [{"kind": "condition", "concepts": [{"id": 316139}]}, {"not": {"kind": "variant", "gene": "TTR"}}, {"kind": "pro", "concepts": [{"id": 2000000501}], "value": {"lte": 50}}]}""";

        var compiled = SubgroupCompiler.CompileCount(definition, fixture.SyntheticSource.SchemaName, fixture.SyntheticSource.Name, "research");
        var plan = string.Join('\n', await new SubgroupCounter(fixture.Reader).ExplainTotalAsync(definition, fixture.SyntheticSource, "research", CancellationToken.None));
        var lines = plan.Split('\n').Where(line => line.Contains("actual time=", StringComparison.Ordinal)).ToList();
        var (fast, _) = await BothPathsAsync(fixture.SyntheticSource, json);

        Assert.Contains("bit_count", compiled.Sql, StringComparison.Ordinal);
        Assert.Contains(lines, line => line.Contains("agg_event_words", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, line => line.Contains(" on person ", StringComparison.Ordinal) || line.Contains("consented AND", StringComparison.Ordinal));
        Assert.True(fast.Count > 10, $"persons match ({fast.Count})");
    }

    [Fact]
    public async Task The_four_modality_count_starts_from_the_carriers_and_equals_the_funnel()
    {
        var json = Examples.Read("synthetic-ttr-hf-low-steps.json");
        var definition = CohortWarehouseFixture.Definition(json);

        var total = await new SubgroupCounter(fixture.Reader).CountTotalAsync(definition, fixture.SyntheticSource, "research", CancellationToken.None);
        var plan = string.Join('\n', await new SubgroupCounter(fixture.Reader).ExplainTotalAsync(definition, fixture.SyntheticSource, "research", CancellationToken.None));
        var (fast, tables) = await BothPathsAsync(fixture.SyntheticSource, json);

        // The variant criterion (the second) drives: the index and heart failure are asked per carrier, never for every index person.
        Assert.Equal(1, total.Driver);
        Assert.Equal(fast.Count, total.Count);
        Assert.Contains(plan.Split('\n'), line => line.Contains("variant_occurrence", StringComparison.Ordinal) && line.Contains("actual time=", StringComparison.Ordinal));
        Assert.DoesNotContain(plan.Split('\n'), line => line.Contains("HashAggregate", StringComparison.Ordinal) && line.Contains("rows=", StringComparison.Ordinal)
            && System.Text.RegularExpressions.Regex.Match(line, @"actual time=\S+ rows=(\d+)") is { Success: true } m && long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 1_000);
        AssertSame(fast, tables, json);
    }

    [Fact]
    public async Task Without_person_words_a_count_from_words_falls_back_to_the_cdm_tables()
    {
        const string Name = "aggwords";
        var registry = new DataSourceRegistry(fixture.Owner);
        var source = await registry.FindAsync(Name, CancellationToken.None) ?? await registry.AddAsync(Name, "person words test", CancellationToken.None);
        await fixture.OwnerSqlAsync($"""
            INSERT INTO cdm_{Name}.person (person_id, gender_concept_id, year_of_birth, race_concept_id, ethnicity_concept_id)
            SELECT g, 8507, 1960, 0, 0 FROM generate_series(1, 200) g;
            INSERT INTO cdm_{Name}.condition_occurrence (condition_occurrence_id, person_id, condition_concept_id, condition_start_date, condition_type_concept_id)
            SELECT g, g, 192671, DATE '2020-01-01', 32817 FROM generate_series(1, 130) g;
            INSERT INTO gov.consent_model (source, purpose, model, reference, set_by) VALUES ('{Name}', 'research', 'waiver', 'IRB-AGG-3', 'test');
            """);
        await using (var connection = await fixture.Owner.OpenConnectionAsync())
        {
            await SubgroupAggregates.RebuildAsync(connection, source.SchemaName, CancellationToken.None);
        }

        const string Json = """{"version": 1, "criteria": [{"not": {"kind": "condition", "concepts": [{"id": 192671}]}}]}""";
        var definition = CohortWarehouseFixture.Definition(Json);
        var counter = new SubgroupCounter(fixture.Reader);
        var fromWords = await counter.CountTotalAsync(definition, source, "research", CancellationToken.None);
        var personWords = await fixture.OwnerCountAsync($"SELECT count(*) FROM cdm_{Name}.agg_event_words WHERE domain = 0 AND concept_id = 0");
        await fixture.OwnerSqlAsync($"DELETE FROM cdm_{Name}.agg_event_words WHERE domain = 0");
        var withoutPersonWords = await counter.CountTotalAsync(definition, source, "research", CancellationToken.None);
        await fixture.OwnerSqlAsync($"INSERT INTO cdm_{Name}.person (person_id, gender_concept_id, year_of_birth, race_concept_id, ethnicity_concept_id) VALUES (500, 8507, 1960, 0, 0)");
        var stale = await fixture.OwnerCountAsync("SELECT count(*) FROM gov.warehouse_aggregates WHERE schema_name = @schema AND NOT fresh", new { schema = source.SchemaName });
        var afterNewPerson = await counter.CountTotalAsync(definition, source, "research", CancellationToken.None);

        Assert.Equal(4, personWords);
        Assert.Equal(70, fromWords.Count);
        Assert.Equal(70, withoutPersonWords.Count);
        Assert.Equal(1, stale);
        Assert.Equal(71, afterNewPerson.Count);
    }

    [Fact]
    public async Task The_migration_marks_a_source_stale_whose_summaries_predate_the_value_summary_until_its_rebuild()
    {
        const string Name = "aggmigr";
        var registry = new DataSourceRegistry(fixture.Owner);
        var source = await registry.FindAsync(Name, CancellationToken.None) ?? await registry.AddAsync(Name, "summary migration test", CancellationToken.None);
        await fixture.OwnerSqlAsync($"""
            INSERT INTO cdm_{Name}.person (person_id, gender_concept_id, year_of_birth, race_concept_id, ethnicity_concept_id)
            SELECT g, 8507, 1960, 0, 0 FROM generate_series(1, 50) g;
            INSERT INTO cdm_{Name}.measurement (measurement_id, person_id, measurement_concept_id, measurement_date, measurement_type_concept_id, value_as_number, unit_concept_id)
            SELECT g, g, 2000000201, DATE '2022-01-01', 32817, 20 + g, 8554 FROM generate_series(1, 50) g;
            INSERT INTO gov.consent_model (source, purpose, model, reference, set_by) VALUES ('{Name}', 'research', 'waiver', 'IRB-AGG-4', 'test');
            """);
        await using (var connection = await fixture.Owner.OpenConnectionAsync())
        {
            await SubgroupAggregates.RebuildAsync(connection, source.SchemaName, CancellationToken.None);
        }

        const string Json = """{"version": 1, "criteria": [{"kind": "measurement", "concepts": [{"id": 2000000201}], "value": {"lte": 40}, "units": [8554]}]}""";
        var built = await fixture.CountAsync(source, Json);
        // As a source aggregated before the value summary existed: the table empty, the source fresh; then the migration.
        await fixture.OwnerSqlAsync($"TRUNCATE cdm_{Name}.agg_event_value; DELETE FROM app.schema_journal WHERE step = 'db/gov/consent_registry.sql'");
        const string OthersStale = "SELECT count(*) FROM gov.warehouse_aggregates WHERE schema_name <> @schema AND NOT fresh";
        var othersBefore = await fixture.OwnerCountAsync(OthersStale, new { schema = source.SchemaName });
        await RwePortal.Application.Data.AppMigrator.MigrateAsync(fixture.Database.OwnerConnectionString);
        var stale = await fixture.OwnerCountAsync("SELECT count(*) FROM gov.warehouse_aggregates WHERE schema_name = @schema AND NOT fresh", new { schema = source.SchemaName });
        var othersAfter = await fixture.OwnerCountAsync(OthersStale, new { schema = source.SchemaName });
        var afterMigration = await fixture.CountAsync(source, Json);
        await using (var connection = await fixture.Owner.OpenConnectionAsync())
        {
            await SubgroupAggregates.RebuildAsync(connection, source.SchemaName, CancellationToken.None);
        }

        var afterRebuild = await fixture.CountAsync(source, Json);
        var values = await fixture.OwnerCountAsync($"SELECT count(*) FROM cdm_{Name}.agg_event_value");

        Assert.Equal(20, built.Count);
        Assert.Equal(1, stale);
        Assert.Equal(othersBefore, othersAfter);
        Assert.Equal(20, afterMigration.Count);
        Assert.Equal(20, afterRebuild.Count);
        Assert.Equal(50, values);
    }

    [Fact]
    public async Task A_write_to_an_event_table_sends_counts_to_the_cdm_tables_until_the_rebuild()
    {
        const string Name = "aggstale";
        var registry = new DataSourceRegistry(fixture.Owner);
        var source = await registry.FindAsync(Name, CancellationToken.None) ?? await registry.AddAsync(Name, "stale aggregates test", CancellationToken.None);
        await fixture.OwnerSqlAsync($"""
            INSERT INTO cdm_{Name}.person (person_id, gender_concept_id, year_of_birth, race_concept_id, ethnicity_concept_id)
            SELECT g, 8507, 1960, 0, 0 FROM generate_series(1, 40) g;
            INSERT INTO cdm_{Name}.condition_occurrence (condition_occurrence_id, person_id, condition_concept_id, condition_start_date, condition_type_concept_id)
            SELECT g, g, 192671, DATE '2020-01-01', 32817 FROM generate_series(1, 20) g;
            INSERT INTO gov.consent_model (source, purpose, model, reference, set_by) VALUES ('{Name}', 'research', 'waiver', 'IRB-AGG-1', 'test');
            """);
        await using (var connection = await fixture.Owner.OpenConnectionAsync())
        {
            await SubgroupAggregates.RebuildAsync(connection, source.SchemaName, CancellationToken.None);
        }

        const string Json = """{"version": 1, "criteria": [{"kind": "condition", "concepts": [{"id": 192671}]}]}""";
        var before = await fixture.CountAsync(source, Json);
        await fixture.OwnerSqlAsync(
            $"INSERT INTO cdm_{Name}.condition_occurrence (condition_occurrence_id, person_id, condition_concept_id, condition_start_date, condition_type_concept_id) VALUES (100, 30, 192671, DATE '2021-01-01', 32817)");
        var stale = await fixture.OwnerCountAsync("SELECT count(*) FROM gov.warehouse_aggregates WHERE schema_name = @schema AND NOT fresh", new { schema = source.SchemaName });
        var afterWrite = await fixture.CountAsync(source, Json);
        await using (var connection = await fixture.Owner.OpenConnectionAsync())
        {
            await SubgroupAggregates.RebuildAsync(connection, source.SchemaName, CancellationToken.None);
        }

        var afterRebuild = await fixture.CountAsync(source, Json);
        var summarised = await fixture.OwnerCountAsync($"SELECT count(*) FROM cdm_{Name}.agg_event WHERE person_id = 30");

        Assert.Equal(20, before.Count);
        Assert.Equal(1, stale);
        Assert.Equal(21, afterWrite.Count);
        Assert.Equal(21, afterRebuild.Count);
        Assert.Equal(1, summarised);
    }
}
