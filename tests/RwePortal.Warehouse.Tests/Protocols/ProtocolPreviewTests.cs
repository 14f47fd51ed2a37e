using Dapper;
using RwePortal.Warehouse.Protocols;
using RwePortal.Warehouse.Sources;
using RwePortal.Warehouse.Tests.Cohorts;

namespace RwePortal.Warehouse.Tests.Protocols;

/// <summary>The cohort preview's attrition and time zero, on Eunomia and the synthetic source, against queries written by hand.</summary>
[Collection(CohortWarehouseCollection.Name)]
public sealed class ProtocolPreviewTests(CohortWarehouseFixture fixture)
{
    /// <summary>
    /// The new-user cohort of a two-drug protocol written by hand: each person's first dispensing of either drug
    /// (time zero), what was dispensed that day, a full year observed before it, and age at time zero.
    /// </summary>
    private static string HandWritten(string schema, int treatment, int comparator, string studyPeriod = "") => $"""
        WITH t AS (SELECT descendant_concept_id AS id FROM {schema}.concept_ancestor WHERE ancestor_concept_id = {treatment} UNION SELECT {treatment}),
             c AS (SELECT descendant_concept_id AS id FROM {schema}.concept_ancestor WHERE ancestor_concept_id = {comparator} UNION SELECT {comparator}),
             first_use AS (
                 SELECT de.person_id, min(de.drug_exposure_start_date) AS tz
                 FROM {schema}.drug_exposure de
                 WHERE de.drug_concept_id IN (SELECT id FROM t) OR de.drug_concept_id IN (SELECT id FROM c)
                 GROUP BY de.person_id),
             arms AS (
                 SELECT f.person_id, f.tz, p.year_of_birth,
                        EXISTS (SELECT 1 FROM {schema}.drug_exposure x WHERE x.person_id = f.person_id AND x.drug_exposure_start_date = f.tz AND x.drug_concept_id IN (SELECT id FROM t)) AS on_t,
                        EXISTS (SELECT 1 FROM {schema}.drug_exposure x WHERE x.person_id = f.person_id AND x.drug_exposure_start_date = f.tz AND x.drug_concept_id IN (SELECT id FROM c)) AS on_c,
                        EXISTS (SELECT 1 FROM {schema}.observation_period op WHERE op.person_id = f.person_id
                                AND op.observation_period_start_date <= f.tz - 365 AND op.observation_period_end_date >= f.tz) AS year_observed
                 FROM first_use f JOIN {schema}.person p ON p.person_id = f.person_id
                 WHERE true {studyPeriod})
        """;

    private static ProtocolPreviewInput Input(string json)
    {
        var parsed = ProtocolParser.Parse(json);
        Assert.True(parsed.IsValid, string.Join("\n", parsed.Errors));
        return ProtocolPreviewInput.From(parsed.Protocol!)!;
    }

    private async Task<IEnumerable<T>> OwnerRowsAsync<T>(string sql)
    {
        await using var connection = await fixture.Owner.OpenConnectionAsync();
        return await connection.QueryAsync<T>(sql);
    }

    private Task<ProtocolPreview> PreviewAsync(DataSource source, string json, TimeZeroBinning binning = TimeZeroBinning.Year) =>
        new ProtocolPreviewer(fixture.Reader).PreviewAsync(Input(json), source, "research", binning, CancellationToken.None);

    [Fact]
    public async Task Eunomia_celecoxib_vs_diclofenac_attrition_matches_a_hand_written_new_user_query_per_arm()
    {
        var cohort = HandWritten("cdm_eunomia", 1118084, 1124300);
        async Task<ArmCounts> Arms(string condition) => new(
            await fixture.OwnerCountAsync($"{cohort} SELECT count(*) FROM arms WHERE on_t AND NOT on_c AND {condition}"),
            await fixture.OwnerCountAsync($"{cohort} SELECT count(*) FROM arms WHERE on_c AND NOT on_t AND {condition}"),
            await fixture.OwnerCountAsync($"{cohort} SELECT count(*) FROM arms WHERE on_t AND on_c AND {condition}"));
        var newUsers = await Arms("true");
        var washout = await Arms("year_observed");
        var adults = await Arms("year_observed AND extract(year FROM tz) - year_of_birth >= 18");

        var preview = await PreviewAsync(fixture.EunomiaSource, ProtocolExamples.Read(ProtocolExamples.Eunomia));

        Assert.True(newUsers.Treatment > 100 && newUsers.Comparator > 100, $"the sample has new users of both ({newUsers})");
        Assert.Equal(newUsers, preview.IndexPersons);
        Assert.Equal(ArmCounts.Zero, preview.RemovedByConsent);
        Assert.Equal(
            [newUsers, newUsers with { Both = 0 }, washout with { Both = 0 }, adults with { Both = 0 }, adults with { Both = 0 }],
            preview.Attrition.Where(s => s.Remaining is not null).Select(s => s.Remaining!));
        Assert.Equal(
            ["first dispensing of either strategy (time zero), consented", "started both strategies within 0 days of time zero: excluded",
             "new user: observed the 365 days before time zero, neither strategy before", "age 18 or older at time zero",
             "observed at least 365 days before time zero", ProtocolPreviewCompiler.PriorOutcomeLine],
            preview.Attrition.Select(s => s.Label));
        Assert.Null(preview.Attrition[^1].Remaining);
        Assert.Equal("celecoxib", preview.TreatmentLabel);
    }

    [Fact]
    public async Task Eunomia_time_zero_by_year_matches_a_hand_written_distribution_of_the_cohort()
    {
        var cohort = HandWritten("cdm_eunomia", 1118084, 1124300);
        var final = "year_observed AND extract(year FROM tz) - year_of_birth >= 18 AND on_t <> on_c";
        var years = (await OwnerRowsAsync<(string Year, long Treatment, long Comparator)>(
            $"{cohort} SELECT to_char(tz, 'YYYY'), count(*) FILTER (WHERE on_t), count(*) FILTER (WHERE on_c) FROM arms WHERE {final} GROUP BY 1 ORDER BY 1")).ToList();

        var preview = await PreviewAsync(fixture.EunomiaSource, ProtocolExamples.Read(ProtocolExamples.Eunomia));
        var months = await PreviewAsync(fixture.EunomiaSource, ProtocolExamples.Read(ProtocolExamples.Eunomia), TimeZeroBinning.Month);

        Assert.True(years.Count > 3, "time zero spreads over years");
        Assert.Equal(years.Select(y => new TimeZeroBin(y.Year, y.Treatment, y.Comparator)), preview.TimeZero);
        Assert.Equal(preview.Cohort.Treatment, preview.TimeZero.Sum(b => b.Treatment));
        Assert.Equal(TimeZeroBinning.Month, months.Binning);
        Assert.All(months.TimeZero, b => Assert.Matches("^[0-9]{4}-[0-9]{2}$", b.Period));
        Assert.Equal(preview.Cohort.Comparator, months.TimeZero.Sum(b => b.Comparator));
    }

    [Fact]
    public async Task A_grace_period_moves_persons_who_start_the_other_drug_soon_after_into_the_excluded_both_arm()
    {
        var cohort = HandWritten("cdm_eunomia", 1118084, 1124300);
        var both = await fixture.OwnerCountAsync($"""
            {cohort}
            SELECT count(*) FROM arms a
            WHERE EXISTS (SELECT 1 FROM cdm_eunomia.drug_exposure x WHERE x.person_id = a.person_id AND x.drug_exposure_start_date BETWEEN a.tz AND a.tz + 60 AND x.drug_concept_id IN (SELECT id FROM t))
              AND EXISTS (SELECT 1 FROM cdm_eunomia.drug_exposure x WHERE x.person_id = a.person_id AND x.drug_exposure_start_date BETWEEN a.tz AND a.tz + 60 AND x.drug_concept_id IN (SELECT id FROM c))
            """);
        var json = ProtocolExamples.Edit(ProtocolExamples.Eunomia, r => r["strategies"]!["gracePeriodDays"] = 60);

        var preview = await PreviewAsync(fixture.EunomiaSource, json);

        Assert.Equal(both, preview.IndexPersons.Both);
        Assert.Equal(0, preview.Attrition[1].Remaining!.Both);
        Assert.Equal(preview.IndexPersons.Total - both, preview.Attrition[1].Remaining!.Total);
    }

    [Fact]
    public async Task Synthetic_arni_vs_enalapril_counts_new_users_with_heart_failure_in_the_study_period_as_written_by_hand()
    {
        // The example without its enrollment step (which the subgroup tests check on their own): new users in 2021-2024
        // with a year observed, adults, a heart-failure diagnosis on or before time zero, and consent (opt-in).
        var json = ProtocolExamples.Edit(ProtocolExamples.Synthetic, r => r["eligibility"]!.AsObject().Remove("continuousEnrollment"));
        var cohort = HandWritten("cdm_syn", 2000000402, 1341927, "AND f.tz BETWEEN DATE '2021-01-01' AND DATE '2024-12-31'");
        var expected = await fixture.OwnerCountAsync($"""
            {cohort}
            SELECT count(*) FROM arms a
            JOIN gov.consented_persons('syn', 'research') cp ON cp.person_id = a.person_id
            WHERE on_t <> on_c AND year_observed AND extract(year FROM tz) - year_of_birth >= 18
              AND EXISTS (SELECT 1 FROM cdm_syn.condition_occurrence co
                          JOIN cdm_syn.concept_ancestor ca ON ca.descendant_concept_id = co.condition_concept_id AND ca.ancestor_concept_id = 316139
                          WHERE co.person_id = a.person_id AND co.condition_start_date <= a.tz)
            """);
        var indexBeforeConsent = await fixture.OwnerCountAsync($"{cohort} SELECT count(*) FROM arms");

        var preview = await PreviewAsync(fixture.SyntheticSource, json);

        Assert.True(expected > 500, $"the synthetic source has new users ({expected})");
        Assert.Equal(expected, preview.Cohort.Total);
        Assert.Equal(indexBeforeConsent, preview.IndexPersons.Total);
        Assert.True(preview.RemovedByConsent.Total > 0, "opt-in consent removes some persons");
        Assert.Equal(preview.IndexPersons.Total - preview.RemovedByConsent.Total, preview.Attrition[0].Remaining!.Total);
        Assert.All(preview.TimeZero, b => Assert.InRange(int.Parse(b.Period, System.Globalization.CultureInfo.InvariantCulture), 2021, 2024));
    }

    [Fact]
    public async Task The_synthetic_example_previews_with_its_enrollment_step_and_never_grows()
    {
        var preview = await PreviewAsync(fixture.SyntheticSource, ProtocolExamples.Read(ProtocolExamples.Synthetic));

        var counted = preview.Attrition.Where(s => s.Remaining is not null).Select(s => s.Remaining!).ToList();
        Assert.Contains(preview.Attrition, s => s.Label == "enrolled the 365 days before time zero (gaps up to 30 days)");
        Assert.True(counted.Zip(counted.Skip(1)).All(p => p.First.Treatment >= p.Second.Treatment && p.First.Comparator >= p.Second.Comparator), "attrition never grows");
        Assert.True(preview.Cohort.Treatment > 100 && preview.Cohort.Comparator > 100, $"both arms are populated ({preview.Cohort})");
    }
}
