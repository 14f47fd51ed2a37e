using Dapper;
using RwePortal.Warehouse.Synthetic;

namespace RwePortal.Warehouse.Tests.Synthetic;

/// <summary>
/// The background history, read back from the warehouse and checked against the generator: the rows are exactly the
/// drawn records, each condition reaches its share of persons, and adding them moved no earlier row.
/// </summary>
[Collection(SyntheticWarehouseCollection.Name)]
public sealed class BackgroundConditionTests(SyntheticWarehouseFixture fixture)
{
    private static readonly long[] Ids = [.. BackgroundConditions.All.Select(c => (long)c.ConceptId)];

    [Fact]
    public async Task The_warehouse_holds_exactly_the_drawn_records_and_each_condition_reaches_its_share_of_persons()
    {
        var batch = SyntheticLoader.Generate(SyntheticWarehouseFixture.AnalysisSeed, 1, (int)SyntheticWarehouseFixture.AnalysisPersons);
        var drawn = batch.Persons.Zip(batch.ObservationPeriods)
            .SelectMany(x => BackgroundConditions.Draw(SyntheticWarehouseFixture.AnalysisSeed, x.First.PersonId, x.Second.Start, x.Second.End)
                .Select(r => (x.First.PersonId, r.ConceptId, r.Date)))
            .Order().ToList();
        await using var connection = await fixture.DataSource.OpenConnectionAsync();
        var rows = (await connection.QueryAsync<(long PersonId, long ConceptId, DateTime Date)>(
            "SELECT person_id, condition_concept_id, condition_start_date FROM cdm_syn.condition_occurrence WHERE condition_concept_id = ANY(@ids)",
            new { ids = Ids })).Select(r => (r.PersonId, (int)r.ConceptId, DateOnly.FromDateTime(r.Date))).Order().ToList();

        Assert.True(drawn.Count > 50_000, $"{drawn.Count} records");
        Assert.Equal(drawn, rows);

        // Persons with a record of each condition: its share, within four standard errors.
        var persons = (double)SyntheticWarehouseFixture.AnalysisPersons;
        var withCondition = rows.GroupBy(r => r.Item2).ToDictionary(g => g.Key, g => g.Select(r => r.PersonId).Distinct().Count());
        Assert.All(BackgroundConditions.All, c =>
        {
            var share = withCondition.GetValueOrDefault(c.ConceptId) / persons;
            var tolerance = 4 * Math.Sqrt(c.Share * (1 - c.Share) / persons);
            Assert.True(Math.Abs(share - c.Share) <= tolerance, $"{c.Name}: {share:P2} of persons, expected {c.Share:P1}");
        });

        var named = (await connection.QueryAsync<(long Id, string Name)>(
            "SELECT concept_id, concept_name FROM cdm_syn.concept WHERE concept_id = ANY(@ids) AND standard_concept = 'S' AND domain_id = 'Condition'",
            new { ids = Ids })).ToDictionary(r => (int)r.Id, r => r.Name);
        Assert.All(BackgroundConditions.All, c => Assert.Equal(c.Name, named[c.ConceptId]));
    }

    [Fact]
    public void Their_rows_come_after_every_other_row_of_the_person_from_a_stream_of_their_own()
    {
        var batch = SyntheticLoader.Generate(SyntheticWarehouseFixture.AnalysisSeed, 1, 300);
        var background = Ids.ToHashSet();
        foreach (var person in batch.Conditions.GroupBy(c => c.PersonId))
        {
            var mine = person.Where(r => background.Contains(r.ConceptId)).ToList();
            var others = person.Where(r => !background.Contains(r.ConceptId)).ToList();
            if (mine.Count > 0 && others.Count > 0)
            {
                Assert.True(mine.Min(r => r.ConditionOccurrenceId) > others.Max(r => r.ConditionOccurrenceId));
            }
        }

        Assert.True(BackgroundConditions.Stream < 0, "wearable day streams are positive day numbers");
        Assert.NotEqual(NegativeControlConditions.Stream, BackgroundConditions.Stream);
    }
}
