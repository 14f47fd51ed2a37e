using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using RwePortal.Application.Analyses;
using RwePortal.Application.Common;
using RwePortal.Application.Tests.Infrastructure;
using RwePortal.Warehouse.Protocols;

namespace RwePortal.Application.Tests.Analyses;

/// <summary>
/// A rerun after consent changed says how many persons it lost: the same protocol on the same source, run before and after
/// some persons withdraw for the purpose, reports in its facts exactly the persons with an index event that consent removed
/// (the attrition's first line lost as many), and the population and its estimate change with them.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class ProtocolRunConsentTests(AppFixture fixture)
{
    private const string Source = "syn_consent";
    private const string Purpose = "recontact";

    private async Task<ProtocolRunOutput> RunAsync(ProtocolDefinition protocol)
    {
        await using var scope = fixture.Services.CreateAsyncScope();
        var pipeline = SyntheticRuns.Pipeline(scope.ServiceProvider);

        // No noise key: counts from the threshold up are shown exactly, so the test can do arithmetic on them.
        var input = new ProtocolRunInput(protocol, 1, ProtocolCanonical.Hash(protocol), Source, Purpose, 7, new SmallCellPolicy(11));
        return await pipeline.RunAsync(input, new Progress<AnalysisProgress>(), CancellationToken.None);
    }

    private static long Persons(ProtocolRunOutput run) =>
        run.Result.Arms.PersonsTreatment.Value!.Value + run.Result.Arms.PersonsComparator.Value!.Value;

    private static long First(ProtocolRunOutput run) =>
        run.Result.Attrition[0].Treatment.Value!.Value + run.Result.Attrition[0].Comparator.Value!.Value;

    [Fact]
    public async Task A_rerun_after_withdrawals_reports_the_persons_it_lost_and_they_leave_every_count()
    {
        await SyntheticRuns.EnsureSourceAsync(fixture, Source, 3_000, seed: 11);
        await using var connection = new NpgsqlConnection(fixture.Database.OwnerConnectionString);
        await connection.OpenAsync();
        // A waiver for the purpose and no decision recorded yet: nobody is removed by consent before the withdrawals.
        await using (var waiver = new NpgsqlCommand(
            """
            DELETE FROM gov.consent WHERE source = @source AND purpose = @purpose;
            INSERT INTO gov.consent_model (source, purpose, model, reference, set_by) VALUES (@source, @purpose, 'waiver', 'IRB-TEST-RERUN', 'test');
            """, connection))
        {
            waiver.Parameters.AddWithValue("source", Source);
            waiver.Parameters.AddWithValue("purpose", Purpose);
            await waiver.ExecuteNonQueryAsync();
        }

        try
        {
            var protocol = SyntheticRuns.Example();
            var before = await RunAsync(protocol);

            // Every second person of the first 600 withdraws for the purpose, today.
            await using (var withdraw = new NpgsqlCommand(
                """
                INSERT INTO gov.consent (source, person_id, purpose, status, effective_from, recorded_by)
                SELECT @source, g, @purpose, 'withdrawn', current_date, 'test' FROM generate_series(2, 600, 2) AS g
                """, connection))
            {
                withdraw.Parameters.AddWithValue("source", Source);
                withdraw.Parameters.AddWithValue("purpose", Purpose);
                Assert.Equal(300, await withdraw.ExecuteNonQueryAsync());
            }

            var after = await RunAsync(protocol);

            Assert.Equal(0, before.Facts.RemovedByConsent.Value);
            var lost = after.Facts.RemovedByConsent.Value!.Value;
            Assert.True(lost >= 11, $"the withdrawals removed members of the study population: {after.Facts.RemovedByConsent.Display}");
            // "Removed by consent" counts the persons with an index event (the attrition's first line) whom consent removed;
            // the later lines and the final population can only lose as many or fewer of them.
            Assert.Equal(lost, First(before) - First(after));
            Assert.InRange(Persons(before) - Persons(after), 1, lost);
            Assert.Equal(after.Result.Attrition[^1].Treatment.Value! + after.Result.Attrition[^1].Comparator.Value!, Persons(after));
            Assert.NotEqual(before.Result.Estimates.HazardRatio.Value, after.Result.Estimates.HazardRatio.Value);
        }
        finally
        {
            await using var clean = new NpgsqlCommand(
                "DELETE FROM gov.consent WHERE source = @source AND purpose = @purpose; DELETE FROM gov.consent_model WHERE source = @source AND purpose = @purpose", connection);
            clean.Parameters.AddWithValue("source", Source);
            clean.Parameters.AddWithValue("purpose", Purpose);
            await clean.ExecuteNonQueryAsync();
        }
    }
}
