using System.Data;
using Dapper;
using RwePortal.Warehouse.Analyses;
using RwePortal.Warehouse.Protocols;
using RwePortal.Warehouse.Tests.Cohorts;
using RwePortal.Warehouse.Tests.Protocols;

namespace RwePortal.Warehouse.Tests.Analyses;

/// <summary>
/// The study population read over two connections sharing the caller's snapshot (decision 1103) is the one-connection
/// population entry for entry, and the second connection sees the caller's snapshot, not rows committed after it.
/// </summary>
[Collection(CohortWarehouseCollection.Name)]
public sealed class PopulationSnapshotTests(CohortWarehouseFixture fixture)
{
    private const int AcuteBronchitis = 260139;

    /// <summary>The Eunomia example (per-protocol) with a heterogeneity subgroup and its negative controls.</summary>
    private static ProtocolDefinition Protocol()
    {
        var json = ProtocolExamples.Edit(ProtocolExamples.Eunomia, r =>
            r["analysisPlan"]!["heterogeneity"] = System.Text.Json.Nodes.JsonNode.Parse(
                $$"""[{ "name": "acute bronchitis before", "criteria": [{ "kind": "condition", "concepts": [{ "id": {{AcuteBronchitis}}, "descendants": true }], "window": { "end": -1 } }] }]"""));
        var parsed = ProtocolParser.Parse(json);
        Assert.True(parsed.IsValid, string.Join("\n", parsed.Errors));
        return parsed.Protocol!;
    }

    private async Task<StudyPopulation> OneConnectionAsync(ProtocolDefinition protocol)
    {
        await using var connection = await fixture.Reader.OpenAsync(CancellationToken.None);
        var source = fixture.EunomiaSource;
        return await StudyPopulationExtractor.ExtractAsync(connection, source.SchemaName, source.Name, "research", protocol, 600, 1, CancellationToken.None);
    }

    private static async Task<(Npgsql.NpgsqlConnection Connection, Npgsql.NpgsqlTransaction Transaction)> RepeatableReadAsync(Npgsql.NpgsqlConnection connection)
    {
        var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead);
        await connection.ExecuteAsync("SET TRANSACTION READ ONLY", transaction: transaction);

        // The transaction's snapshot is taken by its first query.
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT 1", transaction: transaction));
        return (connection, transaction);
    }

    private static void AssertSame(StudyPopulation expected, StudyPopulation actual)
    {
        Assert.Equal(expected.Members, actual.Members);
        Assert.Equal(expected.Attrition, actual.Attrition);
        Assert.Equal(expected.RemovedByConsentTreatment, actual.RemovedByConsentTreatment);
        Assert.Equal(expected.RemovedByConsentComparator, actual.RemovedByConsentComparator);
        Assert.Equal(expected.Outcome, actual.Outcome);
        Assert.Equal(expected.NegativeControls.Count, actual.NegativeControls.Count);
        for (var n = 0; n < expected.NegativeControls.Count; n++)
        {
            Assert.Equal(expected.NegativeControls[n].ConceptId, actual.NegativeControls[n].ConceptId);
            Assert.Equal(expected.NegativeControls[n].Name, actual.NegativeControls[n].Name);
            Assert.Equal(expected.NegativeControls[n].FollowUp, actual.NegativeControls[n].FollowUp);
        }

        Assert.Equal(expected.Subgroups.Count, actual.Subgroups.Count);
        for (var s = 0; s < expected.Subgroups.Count; s++)
        {
            Assert.Equal(expected.Subgroups[s].Name, actual.Subgroups[s].Name);
            Assert.Equal(expected.Subgroups[s].Members, actual.Subgroups[s].Members);
        }
    }

    [Fact]
    public async Task Two_connections_on_the_callers_snapshot_give_the_one_connection_population_entry_for_entry()
    {
        var protocol = Protocol();
        var expected = await OneConnectionAsync(protocol);
        Assert.NotEmpty(expected.NegativeControls);
        Assert.Contains(expected.Subgroups[0].Members, m => m);
        Assert.Contains(expected.NegativeControls, c => c.FollowUp.Any(f => f is null));

        await using var connection = await fixture.Reader.OpenAsync(CancellationToken.None);
        var (_, transaction) = await RepeatableReadAsync(connection);
        var source = fixture.EunomiaSource;
        var actual = await StudyPopulationExtractor.ExtractAsync(connection, source.SchemaName, source.Name, "research", protocol, 600, CancellationToken.None);
        await transaction.CommitAsync();

        AssertSame(expected, actual);

        // Without a transaction (a snapshot per statement) the extractor keeps to the caller's connection, same result.
        await using var plain = await fixture.Reader.OpenAsync(CancellationToken.None);
        AssertSame(expected, await StudyPopulationExtractor.ExtractAsync(plain, source.SchemaName, source.Name, "research", protocol, 600, CancellationToken.None));
    }

    [Fact]
    public async Task The_members_are_handed_over_once_the_cohort_statement_has_them_before_the_rest_is_read()
    {
        var protocol = Protocol();
        await using var connection = await fixture.Reader.OpenAsync(CancellationToken.None);
        var (_, transaction) = await RepeatableReadAsync(connection);
        var source = fixture.EunomiaSource;
        IReadOnlyList<PopulationMember>? handed = null;
        var calls = 0;
        var population = await StudyPopulationExtractor.ExtractAsync(connection, source.SchemaName, source.Name, "research", protocol, 600, members =>
        {
            calls++;
            handed = members;
        }, CancellationToken.None);
        await transaction.CommitAsync();

        Assert.Equal(1, calls);
        Assert.NotNull(handed);
        Assert.NotEmpty(handed);
        Assert.Equal(population.Members, handed);
    }

    [Fact]
    public async Task The_second_connection_reads_the_callers_snapshot_not_rows_committed_after_it()
    {
        var protocol = Protocol();
        var before = await OneConnectionAsync(protocol);
        var subgroup = before.Subgroups[0].Members;
        var control = before.NegativeControls[0];

        // A member outside the subgroup and one followed for the first negative control: each gets a condition 30 days
        // before time zero, committed after the caller's snapshot, which moves the first into the subgroup and removes
        // the second from that control's analysis. Both are read by the statements the second connection runs.
        var outside = Enumerable.Range(0, before.Members.Count).First(i => !subgroup[i]);
        var followed = Enumerable.Range(0, before.Members.Count).First(i => control.FollowUp[i] is not null && i != outside);

        await using var connection = await fixture.Reader.OpenAsync(CancellationToken.None);
        var (_, transaction) = await RepeatableReadAsync(connection);
        await fixture.OwnerSqlAsync(
            """
            INSERT INTO cdm_eunomia.condition_occurrence (condition_occurrence_id, person_id, condition_concept_id, condition_start_date, condition_type_concept_id)
            VALUES (950000101, @outside, @bronchitis, @outsideDate, 32817), (950000102, @followed, @control, @followedDate, 32817);
            """,
            new
            {
                outside = before.Members[outside].PersonId, bronchitis = AcuteBronchitis, outsideDate = before.Members[outside].TimeZero.AddDays(-30).ToDateTime(TimeOnly.MinValue),
                followed = before.Members[followed].PersonId, control = (int)control.ConceptId, followedDate = before.Members[followed].TimeZero.AddDays(-30).ToDateTime(TimeOnly.MinValue),
            });
        try
        {
            var source = fixture.EunomiaSource;
            var inSnapshot = await StudyPopulationExtractor.ExtractAsync(connection, source.SchemaName, source.Name, "research", protocol, 600, CancellationToken.None);
            await transaction.CommitAsync();
            var now = await OneConnectionAsync(protocol);

            AssertSame(before, inSnapshot);
            Assert.True(now.Subgroups[0].Members[outside]);
            Assert.Null(now.NegativeControls[0].FollowUp[followed]);
        }
        finally
        {
            await fixture.OwnerSqlAsync("DELETE FROM cdm_eunomia.condition_occurrence WHERE condition_occurrence_id IN (950000101, 950000102)");
        }
    }
}
