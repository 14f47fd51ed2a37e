namespace RwePortal.Warehouse.Tests.Cohorts;

/// <summary>Counts on the Eunomia sample, each checked against a query written by hand for it.</summary>
[Collection(CohortWarehouseCollection.Name)]
public sealed class EunomiaSubgroupCountTests(CohortWarehouseFixture fixture)
{
    private const string GiBleedPersons = """
        SELECT DISTINCT co.person_id
        FROM cdm_eunomia.condition_occurrence co
        JOIN cdm_eunomia.concept_ancestor ca ON ca.descendant_concept_id = co.condition_concept_id AND ca.ancestor_concept_id = 192671
        """;

    [Fact]
    public async Task Gi_bleed_example_counts_every_person_with_a_condition_under_192671()
    {
        var expected = await fixture.OwnerCountAsync($"SELECT count(*) FROM ({GiBleedPersons}) x");
        var count = await fixture.CountAsync(fixture.EunomiaSource, Examples.Read("eunomia-gi-bleed.json"));

        Assert.True(expected > 100, $"the sample has GI bleeds ({expected})");
        Assert.Equal(expected, count.Count);
        Assert.Equal(0, count.RemovedByConsent);
        Assert.Equal(2694, count.Persons);
        Assert.Equal([2694, expected], count.Attrition.Select(s => s.Remaining));
    }

    [Fact]
    public async Task Celecoxib_new_users_example_matches_a_hand_written_new_user_query()
    {
        var expected = await fixture.OwnerCountAsync("""
            WITH first_use AS (
                SELECT de.person_id, min(de.drug_exposure_start_date) AS index_date
                FROM cdm_eunomia.drug_exposure de
                WHERE de.drug_concept_id IN (SELECT descendant_concept_id FROM cdm_eunomia.concept_ancestor WHERE ancestor_concept_id = 1118084)
                   OR de.drug_concept_id = 1118084
                GROUP BY de.person_id)
            SELECT count(*)
            FROM first_use f JOIN cdm_eunomia.person p ON p.person_id = f.person_id
            WHERE extract(year FROM f.index_date) - p.year_of_birth >= 18
              AND NOT EXISTS (SELECT 1 FROM cdm_eunomia.condition_occurrence co
                              JOIN cdm_eunomia.concept_ancestor ca ON ca.descendant_concept_id = co.condition_concept_id AND ca.ancestor_concept_id = 192671
                              WHERE co.person_id = f.person_id AND co.condition_start_date < f.index_date)
              AND NOT EXISTS (SELECT 1 FROM cdm_eunomia.drug_exposure d
                              JOIN cdm_eunomia.concept_ancestor ca ON ca.descendant_concept_id = d.drug_concept_id AND ca.ancestor_concept_id = 1124300
                              WHERE d.person_id = f.person_id AND d.drug_exposure_start_date < f.index_date)
            """);
        var users = await fixture.OwnerCountAsync("""
            SELECT count(DISTINCT de.person_id) FROM cdm_eunomia.drug_exposure de
            JOIN cdm_eunomia.concept_ancestor ca ON ca.descendant_concept_id = de.drug_concept_id AND ca.ancestor_concept_id = 1118084
            """);

        var count = await fixture.CountAsync(fixture.EunomiaSource, Examples.Read("eunomia-celecoxib-new-users.json"));

        Assert.True(expected > 100, $"the sample has celecoxib new users ({expected})");
        Assert.Equal(expected, count.Count);
        Assert.Equal(users, count.Persons);
        Assert.Equal(4, count.Attrition.Count);
        Assert.True(count.Attrition.Zip(count.Attrition.Skip(1)).All(pair => pair.First.Remaining >= pair.Second.Remaining), "attrition never grows");
    }

    [Fact]
    public async Task Women_with_two_or_three_sore_throats_match_a_hand_written_count()
    {
        var expected = await fixture.OwnerCountAsync("""
            SELECT count(*) FROM (
                SELECT co.person_id
                FROM cdm_eunomia.condition_occurrence co
                JOIN cdm_eunomia.concept_ancestor ca ON ca.descendant_concept_id = co.condition_concept_id AND ca.ancestor_concept_id = 28060
                JOIN cdm_eunomia.person p ON p.person_id = co.person_id AND p.gender_concept_id = 8532
                GROUP BY co.person_id HAVING count(*) BETWEEN 2 AND 3) x
            """);

        var count = await fixture.CountAsync(fixture.EunomiaSource, """
            {"version": 1, "criteria": [
              {"kind": "sex", "concepts": [8532]},
              {"kind": "condition", "concepts": [{"id": 28060}], "count": {"min": 2, "max": 3}}
            ]}
            """);

        Assert.True(expected > 10, $"some women had two or three ({expected})");
        Assert.Equal(expected, count.Count);
    }

    [Fact]
    public async Task Any_and_not_combine_as_boolean_or_and_negation()
    {
        // (GI bleed OR born before 1950) AND NOT male
        var expected = await fixture.OwnerCountAsync($"""
            SELECT count(*) FROM cdm_eunomia.person p
            WHERE (p.person_id IN ({GiBleedPersons}) OR p.year_of_birth < 1950) AND p.gender_concept_id <> 8507
            """);

        var count = await fixture.CountAsync(fixture.EunomiaSource, """
            {"version": 1, "criteria": [
              {"any": [
                 {"kind": "condition", "concepts": [{"id": 192671}]},
                 {"kind": "observation", "concepts": [{"id": 999999998}], "label": "never matches"},
                 {"all": [{"not": {"kind": "visit", "concepts": [{"id": 999999999}]}}, {"kind": "condition", "concepts": [{"id": 192671}]}]}
              ]},
              {"not": {"kind": "sex", "concepts": [8507]}}
            ]}
            """);
        var older = await fixture.CountAsync(fixture.EunomiaSource, """
            {"version": 1, "criteria": [
              {"any": [{"kind": "condition", "concepts": [{"id": 192671}]}, {"not": {"kind": "condition", "concepts": [{"id": 192671}]}}]},
              {"not": {"kind": "sex", "concepts": [8507]}}
            ]}
            """);
        var notMale = await fixture.OwnerCountAsync("SELECT count(*) FROM cdm_eunomia.person WHERE gender_concept_id <> 8507");
        var bleedNotMale = await fixture.OwnerCountAsync($"SELECT count(*) FROM cdm_eunomia.person p WHERE p.person_id IN ({GiBleedPersons}) AND p.gender_concept_id <> 8507");

        Assert.Equal(bleedNotMale, count.Count);
        Assert.Equal(notMale, older.Count);
        Assert.True(expected >= count.Count);
    }

    [Fact]
    public async Task First_occurrence_in_a_calendar_window_counts_persons_whose_first_event_falls_in_it()
    {
        var expected = await fixture.OwnerCountAsync("""
            SELECT count(*) FROM (
                SELECT co.person_id, min(co.condition_start_date) AS first_date
                FROM cdm_eunomia.condition_occurrence co
                WHERE co.condition_concept_id IN (SELECT descendant_concept_id FROM cdm_eunomia.concept_ancestor WHERE ancestor_concept_id = 28060)
                GROUP BY co.person_id) f
            WHERE f.first_date BETWEEN DATE '1990-01-01' AND DATE '2005-12-31'
            """);
        var anyInWindow = await fixture.OwnerCountAsync("""
            SELECT count(DISTINCT co.person_id) FROM cdm_eunomia.condition_occurrence co
            WHERE co.condition_concept_id IN (SELECT descendant_concept_id FROM cdm_eunomia.concept_ancestor WHERE ancestor_concept_id = 28060)
              AND co.condition_start_date BETWEEN DATE '1990-01-01' AND DATE '2005-12-31'
            """);

        var first = await fixture.CountAsync(fixture.EunomiaSource, """
            {"version": 1, "criteria": [{"kind": "condition", "concepts": [{"id": 28060}], "occurrence": "first", "window": {"from": "1990-01-01", "to": "2005-12-31"}}]}
            """);
        var any = await fixture.CountAsync(fixture.EunomiaSource, """
            {"version": 1, "criteria": [{"kind": "condition", "concepts": [{"id": 28060}], "window": {"from": "1990-01-01", "to": "2005-12-31"}}]}
            """);

        Assert.Equal(expected, first.Count);
        Assert.Equal(anyInWindow, any.Count);
        Assert.True(first.Count < any.Count, "some persons had one in the window but their first earlier");
    }

    [Fact]
    public async Task Excluded_concepts_and_their_descendants_leave_the_concept_set()
    {
        // Everything under GI hemorrhage except the concept 192671 itself.
        var expected = await fixture.OwnerCountAsync("""
            SELECT count(DISTINCT co.person_id) FROM cdm_eunomia.condition_occurrence co
            WHERE co.condition_concept_id IN (SELECT descendant_concept_id FROM cdm_eunomia.concept_ancestor WHERE ancestor_concept_id = 192671)
              AND co.condition_concept_id <> 192671
            """);

        var count = await fixture.CountAsync(fixture.EunomiaSource, """
            {"version": 1, "criteria": [{"kind": "condition", "concepts": [{"id": 192671}, {"id": 192671, "descendants": false, "exclude": true}]}]}
            """);

        Assert.Equal(expected, count.Count);
    }

    [Fact]
    public async Task Withdrawals_leave_the_count_and_are_reported_as_removed_by_consent()
    {
        // commercial_research: a waiver with three of the GI-bleed persons withdrawn (this purpose only).
        await fixture.OwnerSqlAsync(
            "INSERT INTO gov.consent_model (source, purpose, model, reference, set_by) VALUES ('eunomia', 'commercial_research', 'waiver', 'IRB-TEST-2', 'test')");
        await fixture.OwnerSqlAsync($"""
            INSERT INTO gov.consent (source, person_id, purpose, status, effective_from, recorded_by)
            SELECT 'eunomia', person_id, 'commercial_research', 'withdrawn', current_date - 1, 'test'
            FROM ({GiBleedPersons} ORDER BY 1 LIMIT 3) x
            """);
        var definition = Examples.Read("eunomia-gi-bleed.json");

        var research = await fixture.CountAsync(fixture.EunomiaSource, definition);
        var commercial = await fixture.CountAsync(fixture.EunomiaSource, definition, "commercial_research");
        var recontact = await fixture.CountAsync(fixture.EunomiaSource, definition, "recontact");

        Assert.Equal(research.Count - 3, commercial.Count);
        Assert.Equal(3, commercial.RemovedByConsent);
        Assert.Equal(2694 - 3, commercial.Attrition[0].Remaining);
        // Opt-in (no model set) with no grants: nobody may be counted, and everyone who matched is reported removed.
        Assert.Equal(0, recontact.Count);
        Assert.Equal(research.Count, recontact.RemovedByConsent);
    }
}
