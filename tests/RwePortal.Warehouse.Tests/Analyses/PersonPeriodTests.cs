using Dapper;
using RwePortal.Warehouse.Analyses;
using RwePortal.Warehouse.Protocols;
using RwePortal.Warehouse.Tests.Cohorts;
using RwePortal.Warehouse.Tests.Protocols;

namespace RwePortal.Warehouse.Tests.Analyses;

/// <summary>
/// The person-period data of a per-protocol run (decision 1090) on Eunomia: periods agree with the study population's
/// per-protocol follow-up, a planted switch censors at the end of its period and no later period exists, admissions in
/// the period before are flagged as a hand-written query finds them, consent is inside the statements and the portal
/// role cannot read them.
/// </summary>
[Collection(CohortWarehouseCollection.Name)]
public sealed class PersonPeriodTests(CohortWarehouseFixture fixture)
{
    private const int Celecoxib = 1118084;
    private const int Diclofenac = 1124300;
    private const int Days = PersonPeriodExtractor.DefaultPeriodDays;

    private static ProtocolDefinition PerProtocol()
    {
        var parsed = ProtocolParser.Parse(ProtocolExamples.Read(ProtocolExamples.Eunomia));
        Assert.True(parsed.IsValid, string.Join("\n", parsed.Errors));
        return parsed.Protocol!;
    }

    private async Task<(StudyPopulation Population, PersonPeriodData Periods)> ExtractAsync(string purpose = "research", IReadOnlyList<PopulationMember>? members = null)
    {
        var protocol = PerProtocol();
        await using var connection = await fixture.Reader.OpenAsync(CancellationToken.None);
        var population = await StudyPopulationExtractor.ExtractAsync(connection, fixture.EunomiaSource.SchemaName, fixture.EunomiaSource.Name, "research", protocol, 600, CancellationToken.None);
        var periods = await PersonPeriodExtractor.ExtractAsync(
            connection, fixture.EunomiaSource.SchemaName, fixture.EunomiaSource.Name, purpose, protocol, members ?? population.Members, Days, 600, CancellationToken.None);
        return (population, periods);
    }

    [Fact]
    public void A_deviation_censors_at_the_end_of_its_period_an_outcome_on_the_last_day_on_strategy_counts_and_covariates_come_from_the_period_before()
    {
        // Deviation: last day on strategy 40 (period 1); followed to 364 otherwise.
        var rows = PersonPeriodExtractor.Split(0, 7, true, 364, 40, null, Days, [-5, 35, 70], [0, 31, 62]).ToList();
        Assert.Equal([0, 1], rows.Select(r => r.Period));
        Assert.Equal([false, true], rows.Select(r => r.CensoredAtEnd));
        Assert.All(rows, r => Assert.False(r.Outcome));
        Assert.Equal((30, 40), (rows[1].FirstDay, rows[1].LastDay));
        Assert.Equal([1.0, 1.0], rows[0].TimeVarying);   // admitted on day −5; period 0: the initiation
        Assert.Equal([0.0, 1.0], rows[1].TimeVarying);   // period 0 (days 0–29): no admission, the fill on day 0
        var onLastDay = PersonPeriodExtractor.Split(0, 7, true, 364, 40, 40, Days, [], []).ToList();
        Assert.True(onLastDay[^1].Outcome);
        Assert.False(onLastDay[^1].CensoredAtEnd);
        var after = PersonPeriodExtractor.Split(0, 7, true, 364, 40, 41, Days, [], []).ToList();
        Assert.Equal(2, after.Count);
        Assert.True(after[^1].CensoredAtEnd);
        Assert.DoesNotContain(after, r => r.Outcome);

        // No deviation: followed to day 364 (13 periods, the last one 360–364); a deviation on the last day is no deviation.
        var full = PersonPeriodExtractor.Split(0, 7, false, 364, 364, null, Days, [35], [31]).ToList();
        Assert.Equal(13, full.Count);
        Assert.DoesNotContain(full, r => r.CensoredAtEnd);
        Assert.Equal((360, 364), (full[^1].FirstDay, full[^1].LastDay));
        Assert.Equal([1.0, 1.0], full[2].TimeVarying);   // admission day 35 and fill day 31 are in period 1, the one before period 2
        Assert.Equal([0.0, 0.0], full[3].TimeVarying);
    }

    [Fact]
    public async Task Periods_follow_the_per_protocol_follow_up_of_the_study_population_and_admissions_equal_a_hand_written_query()
    {
        var (population, data) = await ExtractAsync();
        var byMember = data.Rows.GroupBy(r => r.Member).ToDictionary(g => g.Key, g => g.OrderBy(r => r.Period).ToList());
        Assert.Equal(population.Members.Count, byMember.Count);
        for (var i = 0; i < population.Members.Count; i++)
        {
            var followUp = population.Outcome[i];
            var rows = byMember[i];
            Assert.Equal(((followUp.Days - 1) / Days) + 1, rows.Count);
            Assert.Equal(Enumerable.Range(0, rows.Count), rows.Select(r => r.Period));
            Assert.Equal(followUp.Days - 1, rows[^1].LastDay);
            Assert.Equal(followUp.Event, rows[^1].Outcome);
            Assert.DoesNotContain(rows.SkipLast(1), r => r.Outcome || r.CensoredAtEnd);
            Assert.All(rows, r => Assert.Equal(population.Members[i].PersonId, r.PersonId));
        }

        Assert.Equal(population.Outcome.Count(f => f.Event), data.Rows.Count(r => r.Outcome));
        Assert.True(data.Deviations > 0, "Eunomia's NSAID users discontinue");

        // Hand-written: rows whose previous 30 days hold an inpatient visit start.
        var ids = byMember.Keys.Order().Select(i => population.Members[i].PersonId).ToArray();
        var zeros = byMember.Keys.Order().Select(i => population.Members[i].TimeZero).ToArray();
        var counts = byMember.Keys.Order().Select(i => byMember[i].Count).ToArray();
        await using var connection = await fixture.Reader.OpenAsync(CancellationToken.None);
        var flagged = await connection.ExecuteScalarAsync<long>(
            """
            SELECT count(*) FROM unnest(@ids::bigint[], @zeros::date[], @counts::int[]) m(person_id, tz, n)
            CROSS JOIN LATERAL generate_series(0, m.n - 1) k
            WHERE EXISTS (SELECT 1 FROM cdm_eunomia.visit_occurrence v
                          WHERE v.person_id = m.person_id AND v.visit_concept_id = 9201
                            AND v.visit_start_date >= m.tz + (k - 1) * 30 AND v.visit_start_date < m.tz + k * 30)
            """,
            new { ids, zeros, counts });
        Assert.Equal(flagged, data.Rows.Count(r => r.TimeVarying[0] == 1));
    }

    [Fact]
    public async Task A_planted_switch_censors_at_the_end_of_its_period_and_a_planted_admission_before_it_is_flagged()
    {
        var (before, beforeData) = await ExtractAsync();
        var candidate = Enumerable.Range(0, before.Members.Count)
            .First(i => !before.Outcome[i].Event && before.Outcome[i].Days > 20
                && !beforeData.Rows.Any(r => r.Member == i && r.Period == 0 && r.TimeVarying[0] == 1));
        var member = before.Members[candidate];
        await fixture.OwnerSqlAsync(
            """
            INSERT INTO cdm_eunomia.drug_exposure (drug_exposure_id, person_id, drug_concept_id, drug_exposure_start_date, drug_exposure_end_date, days_supply, drug_type_concept_id)
            VALUES (950000101, @person, @other, @switchDate, @switchDate, 1, 32817);
            INSERT INTO cdm_eunomia.visit_occurrence (visit_occurrence_id, person_id, visit_concept_id, visit_start_date, visit_end_date, visit_type_concept_id)
            VALUES (950000102, @person, 9201, @admitted, @admitted, 32817);
            """,
            new
            {
                person = member.PersonId, other = member.Treated ? Diclofenac : Celecoxib,
                switchDate = member.TimeZero.AddDays(20).ToDateTime(TimeOnly.MinValue),
                admitted = member.TimeZero.AddDays(-10).ToDateTime(TimeOnly.MinValue),
            });
        try
        {
            var (_, after) = await ExtractAsync();
            var rows = after.Rows.Where(r => r.PersonId == member.PersonId).OrderBy(r => r.Period).ToList();

            // The switch to the other strategy on day 20: on strategy to day 19 (period 0), censored at its end; no period 1.
            // The admission 10 days before time zero is in the period before period 0.
            Assert.Equal([0], rows.Select(r => r.Period));
            Assert.True(rows[0].CensoredAtEnd);
            Assert.Equal(19, rows[0].LastDay);
            Assert.Equal(1.0, rows[0].TimeVarying[0]);
            Assert.Equal(beforeData.Deviations + (beforeData.Rows.Any(r => r.Member == candidate && r.CensoredAtEnd) ? 0 : 1), after.Deviations);
            Assert.Equal(beforeData.Rows.Count(r => r.PersonId != member.PersonId), after.Rows.Count(r => r.PersonId != member.PersonId));
        }
        finally
        {
            await fixture.OwnerSqlAsync(
                """
                DELETE FROM cdm_eunomia.drug_exposure WHERE drug_exposure_id = 950000101;
                DELETE FROM cdm_eunomia.visit_occurrence WHERE visit_occurrence_id = 950000102;
                """);
        }
    }

    [Fact]
    public async Task Consent_for_the_purpose_is_inside_the_statements()
    {
        var (population, _) = await ExtractAsync();
        var withdrawn = population.Members[0];
        await fixture.OwnerSqlAsync(
            """
            INSERT INTO gov.consent_model (source, purpose, model, reference, set_by) VALUES ('eunomia', 'recontact', 'waiver', 'IRB-TEST-3', 'test');
            INSERT INTO gov.consent (source, person_id, purpose, status, effective_from, recorded_by) VALUES ('eunomia', @person, 'recontact', 'withdrawn', current_date, 'test');
            """,
            new { person = withdrawn.PersonId });
        try
        {
            // The members as read for research, the rows for recontact: the withdrawn person has none, the others all theirs.
            var (_, recontact) = await ExtractAsync("recontact", population.Members);
            var (_, research) = await ExtractAsync("research", population.Members);
            Assert.DoesNotContain(recontact.Rows, r => r.PersonId == withdrawn.PersonId);
            Assert.Contains(research.Rows, r => r.PersonId == withdrawn.PersonId);
            Assert.Equal(research.Rows.Count(r => r.PersonId != withdrawn.PersonId), recontact.Rows.Count);
        }
        finally
        {
            await fixture.OwnerSqlAsync(
                """
                DELETE FROM gov.consent WHERE source = 'eunomia' AND purpose = 'recontact';
                DELETE FROM gov.consent_model WHERE source = 'eunomia' AND purpose = 'recontact';
                """);
        }
    }

    [Fact]
    public async Task The_portal_role_with_its_password_cannot_read_person_periods()
    {
        var (population, _) = await ExtractAsync();
        await using var app = new Npgsql.NpgsqlConnection(fixture.Database.AppConnectionString);
        await app.OpenAsync();
        var denied = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => PersonPeriodExtractor.ExtractAsync(
            app, fixture.EunomiaSource.SchemaName, fixture.EunomiaSource.Name, "research", PerProtocol(), population.Members, Days, 60, CancellationToken.None));
        Assert.Equal("42501", denied.SqlState);
    }

    [Fact]
    public async Task An_intention_to_treat_protocol_has_no_person_periods()
    {
        var json = ProtocolExamples.Edit(ProtocolExamples.Eunomia, root =>
        {
            root["contrast"]!["type"] = "intentionToTreat";
            root["followUp"]!.AsObject().Remove("censorAt");
        });
        var itt = ProtocolParser.Parse(json).Protocol!;
        await using var connection = await fixture.Reader.OpenAsync(CancellationToken.None);
        await Assert.ThrowsAsync<ArgumentException>(() => PersonPeriodExtractor.ExtractAsync(
            connection, fixture.EunomiaSource.SchemaName, fixture.EunomiaSource.Name, "research", itt, [], Days, 60, CancellationToken.None));
    }
}
