using Dapper;
using RwePortal.Warehouse.Analyses;
using RwePortal.Warehouse.Protocols;
using RwePortal.Warehouse.Tests.Cohorts;
using RwePortal.Warehouse.Tests.Protocols;

namespace RwePortal.Warehouse.Tests.Analyses;

/// <summary>
/// The example sacubitril/valsartan vs enalapril protocol's covariates on the generated source (<c>syn</c>, opt-in
/// consent), for the new users of either drug at their first dispensing, against queries written by hand in another
/// shape (EXISTS per concept, window functions instead of DISTINCT ON), run as the owner. The extraction runs over two
/// reader connections sharing one snapshot; the single statement gives exactly the same covariates.
/// </summary>
[Collection(CohortWarehouseCollection.Name)]
public sealed class CovariateSyntheticTests(CohortWarehouseFixture fixture)
{
    // New users of either strategy at their first dispensing, consented for research.
    private const string Population = """
        SELECT de.person_id, min(de.drug_exposure_start_date) AS tz
        FROM cdm_syn.drug_exposure de
        WHERE de.drug_concept_id IN (2000000402, 1341927)
          AND de.person_id IN (SELECT person_id FROM gov.consented_persons('syn', 'research'))
        GROUP BY de.person_id
        """;

    private async Task<(List<StudyPerson> Persons, CovariateData Data, CovariateSettings Settings)> ExtractAsync()
    {
        var parsed = ProtocolParser.Parse(ProtocolExamples.Read(ProtocolExamples.Synthetic));
        Assert.True(parsed.IsValid, string.Join("\n", parsed.Errors));
        var settings = CovariateSettings.From(parsed.Protocol!.Assignment!, CohortWarehouseFixture.Synthetic, "research");
        List<StudyPerson> persons;
        await using (var owner = await fixture.Owner.OpenConnectionAsync())
        {
            persons = (await owner.QueryAsync<(long PersonId, DateTime Tz)>(Population + " ORDER BY 1"))
                .Select(p => new StudyPerson(p.PersonId, DateOnly.FromDateTime(p.Tz))).ToList();
        }

        await using var reader = await fixture.Reader.OpenAsync(CancellationToken.None);
        // Over two connections on one snapshot, as a population from CovariateExtractor.ParallelFromPersons on is read,
        // so the hand-written queries below check that path (the test population is smaller).
        var data = await CovariateExtractor.ExtractAsync(reader, fixture.SyntheticSource.SchemaName, persons, settings, 2, CancellationToken.None);
        return (persons, data, settings);
    }

    private static Dictionary<int, int> PersonsPerCovariate(CovariateData data) =>
        data.Covariates.GroupBy(c => c).ToDictionary(g => g.Key, g => g.Count());

    [Fact]
    public async Task Condition_covariates_per_window_are_the_concepts_a_hand_written_query_finds_in_at_least_the_rare_threshold()
    {
        var (persons, data, settings) = await ExtractAsync();
        var counts = PersonsPerCovariate(data);
        var threshold = settings.RareThreshold(persons.Count);

        foreach (var days in new[] { 365, 180, 30 })
        {
            await using var owner = await fixture.Owner.OpenConnectionAsync();
            var expected = (await owner.QueryAsync<(long Concept, long N)>($"""
                WITH pop AS ({Population})
                SELECT c.id, (SELECT count(*) FROM pop
                              WHERE EXISTS (SELECT 1 FROM cdm_syn.condition_occurrence co
                                            WHERE co.person_id = pop.person_id AND co.condition_concept_id = c.id
                                              AND co.condition_start_date >= pop.tz - {days} AND co.condition_start_date < pop.tz)) AS n
                FROM (SELECT DISTINCT condition_concept_id AS id FROM cdm_syn.condition_occurrence WHERE condition_concept_id <> 0) c
                """)).Where(e => e.N >= threshold).OrderBy(e => e.Concept).ToList();

            var actual = data.Refs.Where(r => r.Group == $"conditions/condition {days}d")
                .Select(r => (Concept: r.ConceptId!.Value, N: (long)counts[r.Id])).OrderBy(e => e.Concept).ToList();
            Assert.NotEmpty(expected);
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public async Task Latest_lvef_before_time_zero_matches_a_window_function_and_the_rest_get_the_mean()
    {
        var (persons, data, settings) = await ExtractAsync();
        await using var owner = await fixture.Owner.OpenConnectionAsync();
        var expected = (await owner.QueryAsync<(long PersonId, double Value)>($"""
            WITH pop AS ({Population})
            SELECT person_id, v FROM (
                SELECT pop.person_id, CAST(me.value_as_number AS double precision) AS v,
                       row_number() OVER (PARTITION BY pop.person_id ORDER BY me.measurement_date DESC, me.measurement_id DESC) AS k
                FROM pop JOIN cdm_syn.measurement me ON me.person_id = pop.person_id
                WHERE me.measurement_concept_id = 2000000201 AND me.value_as_number IS NOT NULL
                  AND me.measurement_date BETWEEN pop.tz - 365 AND pop.tz - 1) x
            WHERE k = 1
            """)).ToDictionary(e => e.PersonId, e => e.Value);

        var lvef = data.Refs.Where(r => r.ConceptId == 2000000201 && !r.Binary).ToList();
        var covariate = Assert.Single(lvef);
        Assert.Equal("labs", covariate.Spec());
        var rowOf = persons.Select((p, i) => (p.PersonId, i)).ToDictionary(x => x.i, x => x.PersonId);
        var values = Enumerable.Range(0, data.Entries).Where(k => data.Covariates[k] == covariate.Id)
            .ToDictionary(k => rowOf[data.Rows[k]], k => data.Values[k]);
        var mean = expected.Values.Average();

        Assert.Equal(persons.Count, values.Count);
        Assert.True(expected.Count > 100, $"{expected.Count} persons with an LVEF");
        Assert.True(expected.Count < persons.Count, "some persons have no LVEF in the window");
        foreach (var (person, value) in values)
        {
            Assert.Equal(expected.TryGetValue(person, out var e) ? e : mean, value, 9);
        }

        var missing = data.Refs.SingleOrDefault(r => r.Name == covariate.Name + ": missing");
        if (persons.Count - expected.Count >= settings.RareThreshold(persons.Count))
        {
            Assert.Equal(persons.Count - expected.Count, PersonsPerCovariate(data)[missing!.Id]);
        }
        else
        {
            Assert.Null(missing);
        }
    }

    [Fact]
    public async Task Every_spec_of_the_example_protocol_yields_covariates_and_binary_ones_are_at_least_the_rare_threshold()
    {
        var (persons, data, settings) = await ExtractAsync();
        var counts = PersonsPerCovariate(data);

        Assert.Equal(["conditions", "cost", "demographics", "drugs", "labs", "steps", "ttr"], data.Refs.Select(r => r.Spec()).Distinct().Order());
        Assert.All(data.Refs.Where(r => r.Binary), r => Assert.True(counts[r.Id] >= settings.RareThreshold(persons.Count), r.Name));
        Assert.Equal(Enumerable.Range(0, data.Refs.Count), data.Refs.Select(r => r.Id));
        // The heart-failure model's few dozen concepts and the background history's 80 conditions, in four windows.
        Assert.InRange(data.Refs.Count, 300, 700);
        // Time zero is the first dispensing of either drug: neither is a baseline drug covariate.
        Assert.DoesNotContain(data.Refs, r => r.Spec() == "drugs" && r.ConceptId is 2000000402 or 1341927);
        // Females, as the person table says.
        var female = data.Refs.Single(r => r.Name == "gender: FEMALE [8532]");
        var women = await fixture.OwnerCountAsync($"SELECT count(*) FROM ({Population}) pop JOIN cdm_syn.person p ON p.person_id = pop.person_id WHERE p.gender_concept_id = 8532");
        Assert.Equal(women, counts[female.Id]);
    }

    [Fact]
    public async Task Two_connections_on_one_snapshot_give_exactly_the_single_statements_covariates()
    {
        var (persons, split, settings) = await ExtractAsync();
        CovariateData single;
        await using (var reader = await fixture.Reader.OpenAsync(CancellationToken.None))
        {
            single = await CovariateExtractor.ExtractAsync(reader, fixture.SyntheticSource.SchemaName, persons, settings, 1, CancellationToken.None);
        }

        Assert.Equal(single.Refs, split.Refs);
        var expected = Enumerable.Range(0, single.Entries).Select(k => (single.Covariates[k], single.Rows[k], single.Values[k])).Order().ToList();
        var actual = Enumerable.Range(0, split.Entries).Select(k => (split.Covariates[k], split.Rows[k], split.Values[k])).Order().ToList();
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void The_split_deals_every_part_once_and_the_consented_rows_to_the_first_statement()
    {
        var parsed = ProtocolParser.Parse(ProtocolExamples.Read(ProtocolExamples.Synthetic));
        var settings = CovariateSettings.From(parsed.Protocol!.Assignment!, CohortWarehouseFixture.Synthetic, "research");
        var parts = CovariateStatement.Parts(settings);
        var groups = CovariateExtractor.Split(parts, 2);
        Assert.Equal(2, groups.Count);
        Assert.Contains(0, groups[0]);
        Assert.Equal(parts.Select(p => p.Index).Prepend(0).Order(), groups.SelectMany(g => g).Order());
        Assert.Empty(groups[0].Intersect(groups[1]));
    }
}
