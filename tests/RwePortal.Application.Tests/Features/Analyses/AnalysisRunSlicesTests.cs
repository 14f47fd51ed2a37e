using Dapper;
using Npgsql;
using RwePortal.Application.Features.Analyses;
using RwePortal.Application.Features.Protocols;
using RwePortal.Application.Jobs;
using RwePortal.Application.Tests.Features.Protocols;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Features.Analyses;

[Collection(AppCollection.Name)]
public sealed class AnalysisRunSlicesTests(AppFixture fixture)
{
    [Fact]
    public async Task Start_queues_the_approved_version_with_its_content_hash_the_default_seed_and_an_audit_event()
    {
        var scenario = await RunScenario.StartAsync(fixture);
        var runId = await scenario.StartRunAsync();

        var run = (await fixture.SendAsync(new GetAnalysisRun.Query(runId))).Unwrap();
        var document = await scenario.Protocols.OwnerScalarAsync<string>(
            "SELECT document FROM app.protocol_versions WHERE protocol_id = @id AND version = 1", new { id = scenario.ProtocolId });
        var hash = ProtocolScenario.Sha256(document);
        Assert.Equal(AnalysisRunStatus.Queued, run.Status);
        Assert.Equal(hash, run.ProtocolHash);
        Assert.Equal(hash, run.Reproducibility.ProtocolHash);
        Assert.Equal(1, run.ProtocolVersion);
        Assert.Equal(scenario.Source, run.Source);
        Assert.Equal("research", run.Purpose);
        Assert.Equal(1, run.Attempt);
        Assert.Null(run.Result);
        Assert.Equal((int)(Convert.ToUInt32(hash[..8], 16) & 0x7FFFFFFF), run.Reproducibility.Seed);
        Assert.StartsWith("Test author-", run.RequestedBy, StringComparison.Ordinal);

        var explicitSeed = await scenario.StartRunAsync(seed: 42);
        Assert.Equal(42, (await fixture.SendAsync(new GetAnalysisRun.Query(explicitSeed))).Unwrap().Reproducibility.Seed);

        var audited = await scenario.Protocols.OwnerScalarAsync<long>(
            "SELECT count(*) FROM app.audit_event WHERE tenant_id = @tenant AND target = @target AND outcome = 'Success'",
            new { tenant = scenario.TenantId, target = $"StartAnalysisRun: run {runId}" });
        Assert.Equal(1, audited);
    }

    [Fact]
    public async Task Start_refuses_a_draft_and_an_in_review_version()
    {
        var scenario = await RunScenario.StartAsync(fixture);
        await scenario.AsLeadAsync();
        var draft = (await fixture.SendAsync(new CreateProtocol.Command("Draft only", ProtocolScenario.Example()))).Unwrap().Id;
        RunScenario.AssertFailed(await fixture.SendAsync(new StartAnalysisRun.Command(draft, 1, scenario.Source)), "Run.NotApproved");

        (await fixture.SendAsync(new SubmitProtocolVersion.Command(draft, 1))).Unwrap();
        RunScenario.AssertFailed(await fixture.SendAsync(new StartAnalysisRun.Command(draft, 1, scenario.Source)), "Run.NotApproved");

        var runs = await scenario.Protocols.OwnerScalarAsync<long>("SELECT count(*) FROM app.analysis_runs WHERE protocol_id = @draft", new { draft });
        Assert.Equal(0, runs);
    }

    [Fact]
    public async Task Start_refuses_a_source_the_tenant_was_not_granted_or_not_for_the_purpose()
    {
        var scenario = await RunScenario.StartAsync(fixture);
        var ungranted = $"other_{Guid.NewGuid():N}"[..16];
        await fixture.AddDataSourceAsync(ungranted);
        RunScenario.AssertFailed(await fixture.SendAsync(new StartAnalysisRun.Command(scenario.ProtocolId, 1, ungranted)), "Run.SourceNotGranted");
        RunScenario.AssertFailed(
            await fixture.SendAsync(new StartAnalysisRun.Command(scenario.ProtocolId, 1, scenario.Source, "commercial_research")), "Run.SourceNotGranted");
    }

    [Fact]
    public async Task An_analyst_sees_runs_but_cannot_start_cancel_or_retry_them()
    {
        var scenario = await RunScenario.StartAsync(fixture);
        var runId = await scenario.StartRunAsync();
        await scenario.AsAnalystAsync();

        Assert.Equal(runId, (await fixture.SendAsync(new GetAnalysisRun.Query(runId))).Unwrap().RunId);
        Assert.Contains((await fixture.SendAsync(new ListAnalysisRuns.Query())).Unwrap().Items, i => i.RunId == runId);
        RunScenario.AssertFailed(await fixture.SendAsync(new StartAnalysisRun.Command(scenario.ProtocolId, 1, scenario.Source)), "Auth.Forbidden");
        RunScenario.AssertFailed(await fixture.SendAsync(new CancelAnalysisRun.Command(runId)), "Auth.Forbidden");
        RunScenario.AssertFailed(await fixture.SendAsync(new RetryAnalysisRun.Command(runId)), "Auth.Forbidden");
        Assert.Equal(AnalysisRunStatus.Queued, (await scenario.StoredAsync(runId)).Status);
    }

    [Fact]
    public async Task Another_tenants_study_lead_gets_not_found_on_every_slice()
    {
        var mine = await RunScenario.StartAsync(fixture);
        var runId = await mine.StartRunAsync();
        var theirs = await RunScenario.StartAsync(fixture);
        var theirRun = await theirs.StartRunAsync();

        await theirs.AsLeadAsync();
        RunScenario.AssertFailed(await fixture.SendAsync(new GetAnalysisRun.Query(runId)), "Run.NotFound");
        RunScenario.AssertFailed(await fixture.SendAsync(new CancelAnalysisRun.Command(runId)), "Run.NotFound");
        RunScenario.AssertFailed(await fixture.SendAsync(new RetryAnalysisRun.Command(runId)), "Run.NotFound");
        RunScenario.AssertFailed(await fixture.SendAsync(new CompareAnalysisRuns.Query(theirRun, runId)), "Run.NotFound");
        RunScenario.AssertFailed(await fixture.SendAsync(new ExportAnalysisRun.Query(runId, "csv")), "Run.NotFound");
        var list = (await fixture.SendAsync(new ListAnalysisRuns.Query(PageSize: 200))).Unwrap();
        Assert.DoesNotContain(list.Items, i => i.RunId == runId);
        Assert.Contains(list.Items, i => i.RunId == theirRun);

        // Their protocol id with my source: the protocol is not theirs to run.
        RunScenario.AssertFailed(await fixture.SendAsync(new StartAnalysisRun.Command(mine.ProtocolId, 1, theirs.Source)), "Protocol.NotFound");
        Assert.Equal(AnalysisRunStatus.Queued, (await mine.StoredAsync(runId)).Status);
    }

    [Fact]
    public async Task Cancel_of_a_queued_run_is_immediate_and_retry_queues_the_next_attempt()
    {
        var scenario = await RunScenario.StartAsync(fixture);
        var runId = await scenario.StartRunAsync();

        var cancelled = (await fixture.SendAsync(new CancelAnalysisRun.Command(runId))).Unwrap();
        Assert.Equal(AnalysisRunStatus.Cancelled, cancelled.Status);
        Assert.False(cancelled.CancelRequested);
        var stored = await scenario.StoredAsync(runId);
        Assert.Equal(AnalysisRunStatus.Cancelled, stored.Status);
        Assert.NotNull((await fixture.SendAsync(new GetAnalysisRun.Query(runId))).Unwrap().FinishedAt);
        RunScenario.AssertFailed(await fixture.SendAsync(new CancelAnalysisRun.Command(runId)), "Run.NotCancellable");

        var retried = (await fixture.SendAsync(new RetryAnalysisRun.Command(runId))).Unwrap();
        Assert.Equal(2, retried.Attempt);
        stored = await scenario.StoredAsync(runId);
        Assert.Equal((AnalysisRunStatus.Queued, 2), (stored.Status, stored.Attempt));
        RunScenario.AssertFailed(await fixture.SendAsync(new RetryAnalysisRun.Command(runId)), "Run.NotRetryable");
    }

    [Fact]
    public async Task The_app_role_with_its_password_cannot_read_another_tenants_runs_nor_change_or_remove_a_run_it_should_not()
    {
        var mine = await RunScenario.StartAsync(fixture);
        var runId = await mine.StartRunAsync();
        var other = await RunScenario.StartAsync(fixture);

        await using (var theirs = await other.OpenAsAppAsync())
        {
            Assert.Equal(0L, await RunScenario.ScalarAsync<long>(theirs, "SELECT count(*) FROM app.analysis_runs WHERE id = @runId", new { runId }));
            Assert.Equal(0, await theirs.ExecuteAsync("UPDATE app.analysis_runs SET message = 'x' WHERE id = @runId", new { runId }));

            // Forging a run into another tenant is refused by the policy's check.
            var forged = await Assert.ThrowsAsync<PostgresException>(() => theirs.ExecuteAsync(
                """
                INSERT INTO app.analysis_runs (id, tenant_id, protocol_id, protocol_version_id, protocol_version, protocol_hash,
                    protocol_title, data_source_id, source, purpose, seed, requested_by, status)
                VALUES (gen_random_uuid(), @tenant, gen_random_uuid(), gen_random_uuid(), 1, repeat('a', 64), 'forged',
                    gen_random_uuid(), 's', 'research', 1, gen_random_uuid(), 'queued')
                """,
                new { tenant = mine.TenantId }));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, forged.SqlState);
        }

        await using var own = await mine.OpenAsAppAsync();

        // Inputs are fixed, a result is written only with the move to succeeded, and no run is deleted by the portal.
        var inputs = await Assert.ThrowsAsync<PostgresException>(() => own.ExecuteAsync("UPDATE app.analysis_runs SET seed = 7 WHERE id = @runId", new { runId }));
        Assert.Equal(PostgresErrorCodes.ObjectNotInPrerequisiteState, inputs.SqlState);
        var early = await Assert.ThrowsAsync<PostgresException>(() => own.ExecuteAsync(
            "UPDATE app.analysis_runs SET result = '{}'::jsonb WHERE id = @runId", new { runId }));
        Assert.Equal(PostgresErrorCodes.ObjectNotInPrerequisiteState, early.SqlState);
        var delete = await Assert.ThrowsAsync<PostgresException>(() => own.ExecuteAsync("DELETE FROM app.analysis_runs WHERE id = @runId", new { runId }));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, delete.SqlState);

        // The app role drives the run to succeeded as a worker would; then the result is locked, for it and the owner alike.
        await RunScenario.QuiesceAsync(fixture);
        await using (var queue = await mine.OpenAsAppAsync())
        {
            await queue.ExecuteAsync("UPDATE app.analysis_runs SET status = 'queued', attempt = attempt + 1, finished_at = NULL WHERE id = @runId AND status = 'cancelled'", new { runId });
            var claimed = await RunScenario.ScalarAsync<Guid>(queue, "SELECT run_id FROM app.claim_analysis_run('forger', 30, 3)");
            Assert.Equal(runId, claimed);
            await queue.ExecuteAsync(
                """
                UPDATE app.analysis_runs SET status = 'succeeded', result = '{"estimates": {"hazardRatio": {"value": 0.8}}}'::jsonb,
                    reproducibility = '{}'::jsonb WHERE id = @runId
                """,
                new { runId });
        }

        var locked = await Assert.ThrowsAsync<PostgresException>(() => own.ExecuteAsync(
            """UPDATE app.analysis_runs SET result = '{"estimates": {"hazardRatio": {"value": 0.5}}}'::jsonb WHERE id = @runId""", new { runId }));
        Assert.Equal(PostgresErrorCodes.ObjectNotInPrerequisiteState, locked.SqlState);
        var status = await Assert.ThrowsAsync<PostgresException>(() => own.ExecuteAsync("UPDATE app.analysis_runs SET status = 'queued' WHERE id = @runId", new { runId }));
        Assert.Equal(PostgresErrorCodes.ObjectNotInPrerequisiteState, status.SqlState);
        var ownerEdit = await Assert.ThrowsAsync<PostgresException>(() => fixture.OwnerSqlAsync(
            $"UPDATE app.analysis_runs SET hazard_ratio = 0.1 WHERE id = '{runId}'"));
        Assert.Equal(PostgresErrorCodes.ObjectNotInPrerequisiteState, ownerEdit.SqlState);
        Assert.Contains("0.8", (await mine.StoredAsync(runId)).Result, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Row_level_security_is_forced_on_the_run_table()
    {
        var (rls, forced) = await fixture.OwnerSqlRowAsync<(bool, bool)>(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'app.analysis_runs'::regclass");
        Assert.True(rls && forced);
        var policies = await fixture.OwnerSqlRowAsync<long>(
            "SELECT count(*) FROM pg_policies WHERE schemaname = 'app' AND tablename = 'analysis_runs' AND policyname = 'tenant_isolation'");
        Assert.Equal(1, policies);
    }
}
