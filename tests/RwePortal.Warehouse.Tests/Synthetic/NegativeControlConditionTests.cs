using Dapper;
using RwePortal.Warehouse.Synthetic;
using C = RwePortal.Warehouse.Vocabulary.ConceptIds;

namespace RwePortal.Warehouse.Tests.Synthetic;

/// <summary>
/// The incident negative-control conditions, read back from the warehouse and checked against the generator's own
/// truth: the rows are exactly the drawn records, new onsets after the index date occur at the model's hazard in
/// both arms alike (no treatment effect), and the hazard shares confounders with the choice of drug.
/// </summary>
[Collection(SyntheticWarehouseCollection.Name)]
public sealed class NegativeControlConditionTests(SyntheticWarehouseFixture fixture)
{
    private static readonly long[] ControlIds = [.. NegativeControlConditions.All.Select(c => (long)c.ConceptId)];

    [Fact]
    public async Task The_warehouse_holds_exactly_the_drawn_records_inside_observation_and_the_vocabulary_names_them()
    {
        var truths = Truths();
        await using var connection = await fixture.DataSource.OpenConnectionAsync();
        var rows = (await connection.QueryAsync<(long PersonId, long ConceptId, DateTime Date)>(
            """
            SELECT co.person_id, co.condition_concept_id, co.condition_start_date
            FROM cdm_syn.condition_occurrence co
            JOIN cdm_syn.observation_period op ON op.person_id = co.person_id
             AND co.condition_start_date BETWEEN op.observation_period_start_date AND op.observation_period_end_date
            WHERE co.condition_concept_id = ANY(@ids)
            """, new { ids = ControlIds })).Select(r => (r.PersonId, (int)r.ConceptId, DateOnly.FromDateTime(r.Date))).Order().ToList();
        var drawn = truths.Values.SelectMany(t => t.NegativeControlRecords.Select(r => (t.PersonId, r.ConceptId, r.Date))).Order().ToList();

        Assert.True(drawn.Count > 5000, $"{drawn.Count} records");
        Assert.Equal(drawn, rows);

        var named = (await connection.QueryAsync<(long Id, string Name, string Vocabulary)>(
            "SELECT concept_id, concept_name, vocabulary_id FROM cdm_syn.concept WHERE concept_id = ANY(@ids) AND standard_concept = 'S'", new { ids = ControlIds }))
            .ToDictionary(r => (int)r.Id);
        Assert.All(NegativeControlConditions.All, c => Assert.Equal(c.Name, named[c.ConceptId].Name));
        Assert.All(named.Values, c => Assert.Equal("SNOMED", c.Vocabulary));
    }

    [Fact]
    public async Task New_onsets_after_the_index_date_occur_at_the_model_hazard_whatever_the_drug()
    {
        var users = await NewUsersAsync();
        var observedByArm = new Dictionary<bool, double> { [true] = 0, [false] = 0 };
        var expectedByArm = new Dictionary<bool, double> { [true] = 0, [false] = 0 };
        foreach (var condition in NegativeControlConditions.All)
        {
            double observed = 0, expected = 0;
            foreach (var u in users)
            {
                var first = u.Truth.NegativeControlRecords.Where(r => r.ConceptId == condition.ConceptId).Select(r => (DateOnly?)r.Date).Min();
                var index = u.Truth.IndexDate!.Value;
                if (first < index)
                {
                    continue; // prevalent before time zero: not at risk of a new onset
                }

                var end = first ?? u.Truth.FollowUpEnd;
                var hazard = condition.HazardPerYear(u.Truth.Covariates, u.Male) * (end.DayNumber - index.DayNumber) / 365.25;
                var evt = first is not null ? 1 : 0;
                observed += evt;
                expected += hazard;
                observedByArm[u.Treated] += evt;
                expectedByArm[u.Treated] += hazard;
            }

            Assert.True(observed > 150, $"{condition.Name}: {observed} new onsets after the index date");
            Assert.InRange(observed / expected, 0.85, 1.15);
        }

        // No treatment effect: observed over expected is 1 in each arm, so the ratio of the two is 1.
        var treated = observedByArm[true] / expectedByArm[true];
        var comparator = observedByArm[false] / expectedByArm[false];
        Assert.InRange(treated, 0.92, 1.08);
        Assert.InRange(comparator, 0.92, 1.08);
        Assert.InRange(treated / comparator, 0.9, 1.11);
    }

    [Fact]
    public async Task The_hazards_share_confounders_with_the_drug_so_crude_rates_differ_between_arms_in_both_directions()
    {
        var users = await NewUsersAsync();
        double MeanHazard(NegativeControlCondition c, bool treated) =>
            users.Where(u => u.Treated == treated).Average(u => c.HazardPerYear(u.Truth.Covariates, u.Male));
        var ratio = NegativeControlConditions.All.ToDictionary(c => c.ConceptId, c => MeanHazard(c, true) / MeanHazard(c, false));

        // Younger, less CKD on sacubitril/valsartan: age-driven conditions are rarer there; active ones more common.
        Assert.True(ratio[C.SenileHyperkeratosis] < 0.9, $"senile hyperkeratosis {ratio[C.SenileHyperkeratosis]:F3}");
        Assert.True(ratio[C.HerpesZosterWithoutComplication] < 0.9, $"herpes zoster {ratio[C.HerpesZosterWithoutComplication]:F3}");
        Assert.True(ratio[C.SprainOfAnkle] > 1.1, $"sprain of ankle {ratio[C.SprainOfAnkle]:F3}");
        Assert.True(ratio[C.IngrowingNail] > 1.05, $"ingrowing nail {ratio[C.IngrowingNail]:F3}");
    }

    [Fact]
    public void Adding_the_conditions_changed_no_other_draw_the_main_stream_never_meets_theirs()
    {
        // The records depend on (seed, person, covariates) alone: drawing them again gives the same records.
        var batch = SyntheticLoader.Generate(SyntheticWarehouseFixture.AnalysisSeed, 1, 200);
        foreach (var (truth, person, period) in batch.Truths.Zip(batch.Persons, batch.ObservationPeriods))
        {
            var again = NegativeControlConditions.Draw(
                SyntheticWarehouseFixture.AnalysisSeed, truth.PersonId, truth.Covariates, person.GenderConceptId == C.Male, period.Start, period.End);
            Assert.Equal(truth.NegativeControlRecords, again);
        }

        // Their rows come after every condition row of the person drawn before them (the background history, drawn
        // later, comes after them), so no earlier row id moved.
        var background = BackgroundConditions.All.Select(c => (long)c.ConceptId).ToHashSet();
        foreach (var person in batch.Conditions.GroupBy(c => c.PersonId))
        {
            var rows = person.Where(r => !background.Contains(r.ConceptId)).ToList();
            var controls = rows.Where(r => ControlIds.Contains(r.ConceptId)).ToList();
            var others = rows.Where(r => !ControlIds.Contains(r.ConceptId)).ToList();
            if (controls.Count > 0 && others.Count > 0)
            {
                Assert.True(controls.Min(r => r.ConditionOccurrenceId) > others.Max(r => r.ConditionOccurrenceId));
            }
        }

        Assert.NotEqual(0, NegativeControlConditions.Stream);
        Assert.True(NegativeControlConditions.Stream < 0, "wearable day streams are positive day numbers");
    }

    private sealed record NewUser(PersonTruth Truth, bool Male, bool Treated);

    private async Task<List<NewUser>> NewUsersAsync()
    {
        await using var connection = await fixture.DataSource.OpenConnectionAsync();
        var male = (await connection.QueryAsync<(long PersonId, bool Male)>(
            "SELECT person_id, gender_concept_id = @male FROM cdm_syn.person", new { male = C.Male })).ToDictionary(r => r.PersonId, r => r.Male);
        return [.. Truths().Values
            .Where(t => t.Arm is TreatmentArm.SacubitrilValsartan or TreatmentArm.Enalapril)
            .Select(t => new NewUser(t, male[t.PersonId], t.Arm == TreatmentArm.SacubitrilValsartan))];
    }

    private static Dictionary<long, PersonTruth> Truths() =>
        SyntheticLoader.Generate(SyntheticWarehouseFixture.AnalysisSeed, 1, (int)SyntheticWarehouseFixture.AnalysisPersons).Truths.ToDictionary(t => t.PersonId);
}
