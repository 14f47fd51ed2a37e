using System.Collections;
using System.Reflection;
using System.Text.Json.Nodes;
using RwePortal.Warehouse.Protocols;
using RwePortal.Warehouse.Tests.Cohorts;

namespace RwePortal.Warehouse.Tests.Protocols;

/// <summary>
/// Outcome blinding: the preview sees no outcome information at all. Its input type has no outcome; two protocols
/// that differ only in their outcome compile to the same statement and parameters and show the same numbers; the
/// outcome's concept ids are never parameters; planting outcome events in the warehouse changes nothing.
/// </summary>
[Collection(CohortWarehouseCollection.Name)]
public sealed class ProtocolPreviewBlindingTests(CohortWarehouseFixture fixture)
{
    private const int GiHaemorrhage = 192671;
    private const int OtherOutcome = 4134120;

    private static ProtocolPreviewInput Input(string json)
    {
        var parsed = ProtocolParser.Parse(json);
        Assert.True(parsed.IsValid, string.Join("\n", parsed.Errors));
        return ProtocolPreviewInput.From(parsed.Protocol!)!;
    }

    private static string WithOutcome(int concept) => ProtocolExamples.Edit(ProtocolExamples.Eunomia, r =>
        r["outcome"]!["event"]!["concepts"] = new JsonArray(new JsonObject { ["id"] = concept, ["descendants"] = true }));

    private static IEnumerable<long> Numbers(object value) => value switch
    {
        int i => [i],
        long l => [l],
        IEnumerable e and not string => e.Cast<object>().SelectMany(Numbers),
        _ => [],
    };

    [Fact]
    public void The_preview_input_type_carries_no_outcome_component()
    {
        static IEnumerable<Type> Reachable(Type type, HashSet<Type> seen)
        {
            if (!seen.Add(type) || type.Namespace?.StartsWith("RwePortal", StringComparison.Ordinal) != true)
            {
                yield break;
            }

            yield return type;
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                var propertyType = property.PropertyType;
                var element = propertyType.IsGenericType ? propertyType.GetGenericArguments() : [Nullable.GetUnderlyingType(propertyType) ?? propertyType];
                foreach (var t in element.SelectMany(e => Reachable(e, seen)))
                {
                    yield return t;
                }
            }
        }

        var types = Reachable(typeof(ProtocolPreviewInput), []).ToList();

        Assert.Contains(typeof(TreatmentStrategies), types);
        Assert.DoesNotContain(typeof(Outcome), types);
        Assert.DoesNotContain(typeof(ProtocolDefinition), types);
        Assert.DoesNotContain(typeof(FollowUp), types);
        Assert.DoesNotContain(typeof(AnalysisPlan), types);
    }

    [Fact]
    public void Two_outcomes_compile_to_the_same_statement_and_parameters_and_the_outcome_is_never_a_parameter()
    {
        var gi = ProtocolPreviewer.Compile(Input(WithOutcome(GiHaemorrhage)), fixture.EunomiaSource, "research");
        var other = ProtocolPreviewer.Compile(Input(WithOutcome(OtherOutcome)), fixture.EunomiaSource, "research");

        Assert.Equal(gi.Sql, other.Sql);
        Assert.Equal(gi.Parameters.Select(p => p.Name), other.Parameters.Select(p => p.Name));
        Assert.Equal(gi.Parameters.Select(p => Numbers(p.Value).ToList()), other.Parameters.Select(p => Numbers(p.Value).ToList()));
        Assert.DoesNotContain((long)GiHaemorrhage, gi.Parameters.SelectMany(p => Numbers(p.Value)));
        Assert.DoesNotContain((long)OtherOutcome, other.Parameters.SelectMany(p => Numbers(p.Value)));
        Assert.DoesNotContain(GiHaemorrhage.ToString(System.Globalization.CultureInfo.InvariantCulture), gi.Sql, StringComparison.Ordinal);
        // The example's eligibility has no condition criterion, so its preview does not read the outcome's table at all.
        Assert.DoesNotContain("condition_occurrence", gi.Sql, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Planted_outcome_events_before_and_after_time_zero_change_nothing_in_the_preview()
    {
        var previewer = new ProtocolPreviewer(fixture.Reader);
        var before = await previewer.PreviewAsync(Input(WithOutcome(GiHaemorrhage)), fixture.EunomiaSource, "research", TimeZeroBinning.Year, CancellationToken.None);
        var otherOutcome = await previewer.PreviewAsync(Input(WithOutcome(OtherOutcome)), fixture.EunomiaSource, "research", TimeZeroBinning.Year, CancellationToken.None);

        // A GI haemorrhage the day before and the day after time zero of every new user of celecoxib.
        const string Plant = """
            INSERT INTO cdm_eunomia.condition_occurrence (condition_occurrence_id, person_id, condition_concept_id, condition_start_date, condition_type_concept_id)
            SELECT 900000000 + row_number() OVER (ORDER BY f.person_id) * 2 + d.k, f.person_id, 192671, f.tz + d.offset_days, 32817
            FROM (SELECT de.person_id, min(de.drug_exposure_start_date) AS tz FROM cdm_eunomia.drug_exposure de
                  JOIN cdm_eunomia.concept_ancestor ca ON ca.descendant_concept_id = de.drug_concept_id AND ca.ancestor_concept_id IN (1118084, 1124300)
                  GROUP BY de.person_id) f
            CROSS JOIN (VALUES (0, -1), (1, 1)) d(k, offset_days)
            """;
        await fixture.OwnerSqlAsync(Plant);
        try
        {
            var planted = await fixture.OwnerCountAsync("SELECT count(*) FROM cdm_eunomia.condition_occurrence WHERE condition_occurrence_id > 900000000");
            var after = await previewer.PreviewAsync(Input(WithOutcome(GiHaemorrhage)), fixture.EunomiaSource, "research", TimeZeroBinning.Year, CancellationToken.None);

            Assert.True(planted > 200, $"outcome events were planted ({planted})");
            Assert.Equal(before.IndexPersons, after.IndexPersons);
            Assert.Equal(before.Attrition, after.Attrition);
            Assert.Equal(before.TimeZero, after.TimeZero);
            Assert.Equal(before.Attrition, otherOutcome.Attrition);
            Assert.Equal(before.TimeZero, otherOutcome.TimeZero);
        }
        finally
        {
            await fixture.OwnerSqlAsync("DELETE FROM cdm_eunomia.condition_occurrence WHERE condition_occurrence_id > 900000000");
        }
    }
}
