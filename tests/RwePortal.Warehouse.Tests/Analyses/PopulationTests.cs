using RwePortal.Warehouse.Analyses;
using RwePortal.Warehouse.Protocols;
using RwePortal.Warehouse.Sources;
using RwePortal.Warehouse.Tests.Cohorts;
using RwePortal.Warehouse.Tests.Protocols;

namespace RwePortal.Warehouse.Tests.Analyses;

/// <summary>The study population of a run (new users, eligibility, prior outcome, follow-up) against queries written by hand, and planted persons.</summary>
[Collection(CohortWarehouseCollection.Name)]
public sealed class PopulationTests(CohortWarehouseFixture fixture)
{
    private const int Celecoxib = 1118084;
    private const int Diclofenac = 1124300;
    private const int GiHaemorrhage = 192671;

    /// <summary>
    /// The Eunomia example's population written by hand: first dispensing of either NSAID (time zero), only one of them
    /// that day, a year observed before it, 18 or older, no GI haemorrhage before time zero; and the ITT outcome: a GI
    /// haemorrhage from time zero to the first of the end of observation, death and day 364.
    /// </summary>
    private static readonly string HandWritten = $"""
        WITH t AS (SELECT descendant_concept_id AS id FROM cdm_eunomia.concept_ancestor WHERE ancestor_concept_id = {Celecoxib} UNION SELECT {Celecoxib}),
             c AS (SELECT descendant_concept_id AS id FROM cdm_eunomia.concept_ancestor WHERE ancestor_concept_id = {Diclofenac} UNION SELECT {Diclofenac}),
             o AS (SELECT descendant_concept_id AS id FROM cdm_eunomia.concept_ancestor WHERE ancestor_concept_id = {GiHaemorrhage} UNION SELECT {GiHaemorrhage}),
             first_use AS (
                 SELECT de.person_id, min(de.drug_exposure_start_date) AS tz FROM cdm_eunomia.drug_exposure de
                 WHERE de.drug_concept_id IN (SELECT id FROM t UNION SELECT id FROM c) GROUP BY de.person_id),
             arms AS (
                 SELECT f.person_id, f.tz,
                        EXISTS (SELECT 1 FROM cdm_eunomia.drug_exposure x WHERE x.person_id = f.person_id AND x.drug_exposure_start_date = f.tz AND x.drug_concept_id IN (SELECT id FROM t)) AS on_t,
                        EXISTS (SELECT 1 FROM cdm_eunomia.drug_exposure x WHERE x.person_id = f.person_id AND x.drug_exposure_start_date = f.tz AND x.drug_concept_id IN (SELECT id FROM c)) AS on_c
                 FROM first_use f JOIN cdm_eunomia.person p ON p.person_id = f.person_id
                 WHERE extract(year FROM f.tz) - p.year_of_birth >= 18
                   AND EXISTS (SELECT 1 FROM cdm_eunomia.observation_period op WHERE op.person_id = f.person_id AND op.observation_period_start_date <= f.tz - 365 AND op.observation_period_end_date >= f.tz)
                   AND NOT EXISTS (SELECT 1 FROM cdm_eunomia.condition_occurrence co WHERE co.person_id = f.person_id AND co.condition_concept_id IN (SELECT id FROM o) AND co.condition_start_date < f.tz)),
             cohort AS (SELECT * FROM arms WHERE on_t <> on_c),
             ends AS (
                 SELECT k.person_id, k.on_t, least(k.tz + 364,
                        (SELECT max(op.observation_period_end_date) FROM cdm_eunomia.observation_period op WHERE op.person_id = k.person_id AND op.observation_period_start_date <= k.tz AND op.observation_period_end_date >= k.tz),
                        (SELECT min(d.death_date) FROM cdm_eunomia.death d WHERE d.person_id = k.person_id)) AS last_day,
                        (SELECT min(co.condition_start_date) FROM cdm_eunomia.condition_occurrence co WHERE co.person_id = k.person_id AND co.condition_concept_id IN (SELECT id FROM o) AND co.condition_start_date >= k.tz) AS outcome
                 FROM cohort k)
        """;

    private static string ItT() => ProtocolExamples.Edit(ProtocolExamples.Eunomia, ToItT);

    private static void ToItT(System.Text.Json.Nodes.JsonObject root)
    {
        root["contrast"]!["type"] = "intentionToTreat";
        root["followUp"]!.AsObject().Remove("censorAt");
    }

    private static ProtocolDefinition Protocol(string json)
    {
        var parsed = ProtocolParser.Parse(json);
        Assert.True(parsed.IsValid, string.Join("\n", parsed.Errors));
        return parsed.Protocol!;
    }

    private async Task<StudyPopulation> ExtractAsync(string json, DataSource? source = null, string purpose = "research")
    {
        source ??= fixture.EunomiaSource;
        await using var connection = await fixture.Reader.OpenAsync(CancellationToken.None);
        return await StudyPopulationExtractor.ExtractAsync(connection, source.SchemaName, source.Name, purpose, Protocol(json), 600, CancellationToken.None);
    }

    [Fact]
    public async Task Eunomia_persons_per_arm_and_itt_outcomes_equal_a_hand_written_query()
    {
        var treatment = await fixture.OwnerCountAsync($"{HandWritten} SELECT count(*) FROM cohort WHERE on_t");
        var comparator = await fixture.OwnerCountAsync($"{HandWritten} SELECT count(*) FROM cohort WHERE on_c");
        var eventsT = await fixture.OwnerCountAsync($"{HandWritten} SELECT count(*) FROM ends WHERE on_t AND outcome <= last_day");
        var eventsC = await fixture.OwnerCountAsync($"{HandWritten} SELECT count(*) FROM ends WHERE NOT on_t AND outcome <= last_day");
        var days = await fixture.OwnerCountAsync($"{HandWritten} SELECT sum(CASE WHEN outcome <= last_day THEN outcome ELSE last_day END - (SELECT tz FROM cohort k WHERE k.person_id = ends.person_id) + 1) FROM ends");

        var population = await ExtractAsync(ItT());

        Assert.True(treatment > 100 && comparator > 100 && eventsT + eventsC > 10, $"Eunomia has new users and outcomes ({treatment}, {comparator}, {eventsT + eventsC})");
        Assert.Equal(treatment, population.Members.Count(m => m.Treated));
        Assert.Equal(comparator, population.Members.Count(m => !m.Treated));
        Assert.Equal(eventsT, population.Members.Where((m, i) => m.Treated && population.Outcome[i].Event).Count());
        Assert.Equal(eventsC, population.Members.Where((m, i) => !m.Treated && population.Outcome[i].Event).Count());
        Assert.Equal(days, population.Outcome.Sum(f => (long)f.Days));
        Assert.Equal(PriorOutcomeLine(population).Treatment, treatment);
        Assert.Equal(0, population.RemovedByConsent);
    }

    private static PopulationAttritionStep PriorOutcomeLine(StudyPopulation population) =>
        Assert.Single(population.Attrition, s => s.Label.StartsWith(StudyPopulationExtractor.PriorOutcomeStep, StringComparison.Ordinal));

    [Fact]
    public async Task The_attrition_before_the_prior_outcome_step_is_the_previews_and_the_last_line_is_the_population()
    {
        var json = ItT();
        var preview = await new ProtocolPreviewer(fixture.Reader).PreviewAsync(
            ProtocolPreviewInput.From(Protocol(json))!, fixture.EunomiaSource, "research", TimeZeroBinning.Year, CancellationToken.None);

        var population = await ExtractAsync(json);

        var counted = preview.Attrition.Where(s => s.Remaining is not null).ToList();
        Assert.Equal(counted.Count + 1, population.Attrition.Count);
        for (var i = 1; i < counted.Count; i++)
        {
            Assert.Equal(counted[i].Label, population.Attrition[i].Label);
            Assert.Equal(counted[i].Remaining!.Treatment, population.Attrition[i].Treatment);
            Assert.Equal(counted[i].Remaining!.Comparator, population.Attrition[i].Comparator);
        }

        Assert.Equal(population.Members.Count(m => m.Treated), population.Attrition[^1].Treatment);
        Assert.Equal(population.Members.Count(m => !m.Treated), population.Attrition[^1].Comparator);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Eligibility_criteria_read_beside_the_cohort_statement_give_the_previews_attrition_line_for_line(bool sharedSnapshot)
    {
        // The synthetic example: age, prior observation, continuous enrollment and a heart-failure diagnosis, the three
        // criteria (age, enrollment, diagnosis) read as statements of their own, on the second connection when there is one;
        // narrowed so that each of them removes persons (the diagnosis made type 2 diabetes, which not everyone has).
        var json = ProtocolExamples.Edit(ProtocolExamples.Synthetic, root =>
        {
            root["eligibility"]!["age"]!["min"] = 70;
            root["eligibility"]!["continuousEnrollment"]!["days"] = 500;
            root["eligibility"]!["criteria"]![0]!["concepts"] = System.Text.Json.Nodes.JsonNode.Parse("""[{ "id": 201826, "descendants": true }]""");
        });
        var protocol = Protocol(json);
        var source = fixture.SyntheticSource;
        var preview = await new ProtocolPreviewer(fixture.Reader).PreviewAsync(
            ProtocolPreviewInput.From(protocol)!, source, "research", TimeZeroBinning.Year, CancellationToken.None);
        var statement = StudyPopulationSql.Cohort(protocol, source.SchemaName, source.Name, "research", separateCriteria: true);
        Assert.Equal([2, 4, 5], statement.SeparateCriteria.Select(c => c.Flag));

        await using var connection = await fixture.Reader.OpenAsync(CancellationToken.None);
        await using var transaction = sharedSnapshot ? await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead) : null;
        var population = await StudyPopulationExtractor.ExtractAsync(connection, source.SchemaName, source.Name, "research", protocol, 600, CancellationToken.None);

        var counted = preview.Attrition.Where(s => s.Remaining is not null).ToList();
        Assert.Equal(counted.Count + 1, population.Attrition.Count);
        for (var i = 1; i < counted.Count; i++)
        {
            Assert.Equal(counted[i].Label, population.Attrition[i].Label);
            Assert.Equal(counted[i].Remaining!.Treatment, population.Attrition[i].Treatment);
            Assert.Equal(counted[i].Remaining!.Comparator, population.Attrition[i].Comparator);
        }

        // Each criterion removes someone here, so a criterion's flag put on the wrong step would show.
        Assert.All(statement.SeparateCriteria, c => Assert.True(
            counted[c.Flag + 1].Remaining!.Treatment + counted[c.Flag + 1].Remaining!.Comparator < counted[c.Flag].Remaining!.Treatment + counted[c.Flag].Remaining!.Comparator,
            $"step {c.Flag + 1} ({counted[c.Flag + 1].Label}) removes nobody: {string.Join(", ", counted.Select(l => $"{l.Remaining!.Treatment}+{l.Remaining!.Comparator}"))}"));
        Assert.Equal(population.Members.Count(m => m.Treated), population.Attrition[^1].Treatment);
    }

    [Fact]
    public async Task Planted_prior_outcome_excludes_outcome_on_time_zero_counts_a_switch_censors_per_protocol_only_and_withdrawn_consent_removes()
    {
        var itt = ItT();
        var pp = ProtocolExamples.Read(ProtocolExamples.Eunomia);
        var before = await ExtractAsync(itt);
        var beforePp = await ExtractAsync(pp);

        // Members without an outcome and followed at least 30 days, in both analyses; the first is on celecoxib.
        var candidates = Enumerable.Range(0, before.Members.Count)
            .Where(i => !before.Outcome[i].Event && before.Outcome[i].Days > 30 && beforePp.Outcome[i].Days > 30 && before.Members[i].Treated)
            .Take(4).ToList();
        Assert.Equal(4, candidates.Count);
        var (prior, onTimeZero, switcher, withdrawn) = (before.Members[candidates[0]], before.Members[candidates[1]], before.Members[candidates[2]], before.Members[candidates[3]]);

        await fixture.OwnerSqlAsync(
            """
            INSERT INTO cdm_eunomia.condition_occurrence (condition_occurrence_id, person_id, condition_concept_id, condition_start_date, condition_type_concept_id)
            VALUES (950000001, @prior, @gi, @priorDate, 32817), (950000002, @zero, @gi, @zeroDate, 32817);
            INSERT INTO cdm_eunomia.drug_exposure (drug_exposure_id, person_id, drug_concept_id, drug_exposure_start_date, drug_exposure_end_date, days_supply, drug_type_concept_id)
            VALUES (950000003, @switcher, @diclofenac, @switchDate, @switchDate, 1, 32817);
            INSERT INTO gov.consent_model (source, purpose, model, reference, set_by) VALUES ('eunomia', 'recontact', 'waiver', 'IRB-TEST-2', 'test');
            INSERT INTO gov.consent (source, person_id, purpose, status, effective_from, recorded_by) VALUES ('eunomia', @withdrawn, 'recontact', 'withdrawn', current_date, 'test');
            """,
            new
            {
                prior = prior.PersonId, priorDate = prior.TimeZero.AddDays(-30).ToDateTime(TimeOnly.MinValue),
                zero = onTimeZero.PersonId, zeroDate = onTimeZero.TimeZero.ToDateTime(TimeOnly.MinValue),
                switcher = switcher.PersonId, switchDate = switcher.TimeZero.AddDays(10).ToDateTime(TimeOnly.MinValue), diclofenac = Diclofenac,
                withdrawn = withdrawn.PersonId, gi = GiHaemorrhage,
            });
        try
        {
            var after = await ExtractAsync(itt);
            var afterPp = await ExtractAsync(pp);
            var recontact = await ExtractAsync(itt, purpose: "recontact");
            FollowUpTime Of(StudyPopulation population, PopulationMember member) => population.Outcome[population.Members.ToList().FindIndex(m => m.PersonId == member.PersonId)];

            Assert.DoesNotContain(after.Members, m => m.PersonId == prior.PersonId);
            Assert.Equal(before.Members.Count - 1, after.Members.Count);
            Assert.Equal(PriorOutcomeLine(before).Treatment - 1, PriorOutcomeLine(after).Treatment);

            Assert.Equal(new FollowUpTime(1, true), Of(after, onTimeZero));

            // The switch on day 10: per-protocol follow-up ends the day before (10 days counting time zero); ITT goes on.
            Assert.Equal(Of(before, switcher), Of(after, switcher));
            Assert.Equal(new FollowUpTime(10, false), Of(afterPp, switcher));

            Assert.DoesNotContain(recontact.Members, m => m.PersonId == withdrawn.PersonId);
            Assert.Contains(after.Members, m => m.PersonId == withdrawn.PersonId);
            Assert.Equal(1, recontact.RemovedByConsentTreatment);
            Assert.Equal(after.Members.Count - 1, recontact.Members.Count);
        }
        finally
        {
            await fixture.OwnerSqlAsync(
                """
                DELETE FROM cdm_eunomia.condition_occurrence WHERE condition_occurrence_id IN (950000001, 950000002);
                DELETE FROM cdm_eunomia.drug_exposure WHERE drug_exposure_id = 950000003;
                DELETE FROM gov.consent WHERE source = 'eunomia' AND purpose = 'recontact';
                DELETE FROM gov.consent_model WHERE source = 'eunomia' AND purpose = 'recontact';
                """);
        }
    }

    [Fact]
    public async Task Negative_controls_exclude_persons_with_them_before_time_zero_and_count_first_occurrences_after_as_written_by_hand()
    {
        var population = await ExtractAsync(ItT());
        Assert.NotEmpty(population.NegativeControls);
        foreach (var control in population.NegativeControls)
        {
            var excluded = await fixture.OwnerCountAsync($"""
                {HandWritten}
                SELECT count(*) FROM cohort k WHERE EXISTS (SELECT 1 FROM cdm_eunomia.condition_occurrence co
                    JOIN cdm_eunomia.concept_ancestor ca ON ca.descendant_concept_id = co.condition_concept_id AND ca.ancestor_concept_id = {control.ConceptId}
                    WHERE co.person_id = k.person_id AND co.condition_start_date < k.tz)
                """);
            var events = await fixture.OwnerCountAsync($"""
                {HandWritten}
                SELECT count(*) FROM ends e JOIN cohort k ON k.person_id = e.person_id
                WHERE NOT EXISTS (SELECT 1 FROM cdm_eunomia.condition_occurrence co
                    JOIN cdm_eunomia.concept_ancestor ca ON ca.descendant_concept_id = co.condition_concept_id AND ca.ancestor_concept_id = {control.ConceptId}
                    WHERE co.person_id = k.person_id AND co.condition_start_date < k.tz)
                  AND (SELECT min(co.condition_start_date) FROM cdm_eunomia.condition_occurrence co
                    JOIN cdm_eunomia.concept_ancestor ca ON ca.descendant_concept_id = co.condition_concept_id AND ca.ancestor_concept_id = {control.ConceptId}
                    WHERE co.person_id = k.person_id AND co.condition_start_date >= k.tz) <= e.last_day
                """);

            Assert.Equal(excluded, control.FollowUp.Count(f => f is null));
            Assert.Equal(events, control.FollowUp.Count(f => f is { Event: true }));
            Assert.False(string.IsNullOrWhiteSpace(control.Name));
        }

        Assert.Contains(population.NegativeControls, c => c.FollowUp.Any(f => f is { Event: true }));
    }

    [Fact]
    public async Task Heterogeneity_subgroup_membership_is_judged_at_time_zero_as_written_by_hand()
    {
        // Members with acute bronchitis (or a descendant) recorded before time zero, by hand.
        var json = ProtocolExamples.Edit(ProtocolExamples.Eunomia, r =>
        {
            ToItT(r);
            r["analysisPlan"]!["heterogeneity"] = System.Text.Json.Nodes.JsonNode.Parse(
                """[{ "name": "acute bronchitis before", "criteria": [{ "kind": "condition", "concepts": [{ "id": 260139, "descendants": true }], "window": { "end": -1 } }] }]""");
        });
        var expected = await fixture.OwnerCountAsync($"""
            {HandWritten}
            SELECT count(*) FROM cohort k WHERE EXISTS (SELECT 1 FROM cdm_eunomia.condition_occurrence co
                WHERE co.condition_concept_id IN (SELECT descendant_concept_id FROM cdm_eunomia.concept_ancestor WHERE ancestor_concept_id = 260139 UNION SELECT 260139)
                  AND co.person_id = k.person_id AND co.condition_start_date <= k.tz - 1)
            """);

        var population = await ExtractAsync(json);

        var subgroup = Assert.Single(population.Subgroups);
        Assert.Equal("acute bronchitis before", subgroup.Name);
        Assert.True(expected > 10, $"members with acute bronchitis before time zero ({expected})");
        Assert.Equal(expected, subgroup.Members.Count(m => m));
    }

    [Fact]
    public async Task The_portal_role_with_its_password_cannot_read_a_study_population()
    {
        await using var app = new Npgsql.NpgsqlConnection(fixture.Database.AppConnectionString);
        await app.OpenAsync();

        var denied = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => StudyPopulationExtractor.ExtractAsync(
            app, fixture.EunomiaSource.SchemaName, fixture.EunomiaSource.Name, "research", Protocol(ItT()), 60, CancellationToken.None));
        Assert.Equal("42501", denied.SqlState);
    }

    [Fact]
    public void Discontinuation_ends_follow_up_after_the_allowed_gap_and_a_refill_within_it_continues()
    {
        // Supplied days 0-29, refill on day 50 (gap of 20 days, allowed 30): covered to day 79; next refill on day 120 is too late.
        Dispensing[] supply = [new(true, 0, 29), new(true, 50, 79), new(true, 120, 149)];
        Assert.Equal(79 + 30, PerProtocolCensoring.LastDay(supply, atSwitch: true, atDiscontinuation: true, allowedGapDays: 30, gracePeriodDays: 0, treated: true));
        Assert.Equal(149 + 60, PerProtocolCensoring.LastDay(supply, atSwitch: true, atDiscontinuation: true, allowedGapDays: 60, gracePeriodDays: 0, treated: true));
        Assert.Null(PerProtocolCensoring.LastDay(supply, atSwitch: true, atDiscontinuation: false, allowedGapDays: 30, gracePeriodDays: 0, treated: true));
        Dispensing[] switched = [new(false, 0, 29), new(true, 15, 44)];
        Assert.Equal(14, PerProtocolCensoring.LastDay(switched, atSwitch: true, atDiscontinuation: false, allowedGapDays: 30, gracePeriodDays: 0, treated: false));
        Assert.Null(PerProtocolCensoring.LastDay(switched, atSwitch: true, atDiscontinuation: false, allowedGapDays: 30, gracePeriodDays: 20, treated: false));
    }
}
