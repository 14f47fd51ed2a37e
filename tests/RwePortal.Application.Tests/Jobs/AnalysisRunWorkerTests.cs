using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Dapper;
using RwePortal.Application.Analyses;
using RwePortal.Application.Features.Analyses;
using RwePortal.Application.Jobs;
using RwePortal.Application.Tests.Features.Analyses;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Jobs;

[Collection(AppCollection.Name)]
public sealed class AnalysisRunWorkerTests(AppFixture fixture)
{
    [Fact]
    public async Task A_queued_run_is_claimed_reports_progress_live_and_stores_the_pipelines_document()
    {
        await RunScenario.QuiesceAsync(fixture);
        var scenario = await RunScenario.StartAsync(fixture);
        var pipeline = new FakeRunPipeline { HoldAt = AnalysisStep.Balance };
        await using var host = new RunWorkerHost(fixture, pipeline);

        // The portal in another process: no worker, only the listener its pages subscribe to.
        await using var portal = new RunWorkerHost(fixture, new FakeRunPipeline(), name: "portal", worker: false);
        var signalled = new ConcurrentQueue<Guid>();
        portal.Signals.Changed += signalled.Enqueue;
        await portal.StartAsync();
        await host.StartAsync();

        var runId = await scenario.StartRunAsync();
        await pipeline.Held.Task.WaitAsync(TimeSpan.FromSeconds(20));
        var running = await scenario.WaitAsync(runId, s => s.Step == "Balance", "running at Balance");
        Assert.Equal(AnalysisRunStatus.Running, running.Status);
        Assert.StartsWith("test-worker:", running.Worker, StringComparison.Ordinal);
        var watched = (await fixture.SendAsync(new GetAnalysisRun.Query(runId))).Unwrap();
        Assert.Equal("Balance: working", watched.Message);
        Assert.Equal(0.5, watched.Fraction);
        Assert.Equal(["Cohort", "Covariates", "Propensity", "Weights", "Balance"], watched.StepTimings.Select(t => t.Step));

        // The other process heard the run change while it ran, and hears it finish: its page updates without polling.
        await Eventually(() => signalled.Contains(runId), "a notification while running");
        var heardWhileRunning = signalled.Count(id => id == runId);
        pipeline.Release();
        await scenario.WaitAsync(runId, s => s.Status == AnalysisRunStatus.Succeeded, "succeeded");
        await Eventually(() => signalled.Count(id => id == runId) > heardWhileRunning, "a notification of the end");
        Assert.Empty(portal.Pipeline.Calls);
        var run = (await fixture.SendAsync(new GetAnalysisRun.Query(runId))).Unwrap();

        // The stored document is the pipeline's, field for field; the record carries the pipeline's facts and the inputs.
        var (hash, seed, source) = Assert.Single(pipeline.Calls);
        Assert.Equal((run.ProtocolHash, run.Reproducibility.Seed, scenario.Source), (hash, seed, source));
        var expected = FakeRunPipeline.Document(new ProtocolRunInput(null!, 1, hash, source, "research", seed, null!));
        Assert.Equal(JsonSerializer.Serialize(expected), JsonSerializer.Serialize(run.Result));
        Assert.Equal(8, run.StepTimings.Count);
        Assert.All(run.StepTimings, t => Assert.NotNull(t.FinishedAt));
        Assert.Equal(1, run.Fraction);
        Assert.Equal("abc1234", run.Reproducibility.CodeVersion);
        Assert.Equal("<11", run.Reproducibility.RemovedByConsent!.Display);
        Assert.Null(run.Reproducibility.RemovedByConsent.Value);
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero), run.Reproducibility.SourceLoadedAt);
        Assert.Equal(DateOnly.FromDateTime(DateTime.UtcNow), run.Reproducibility.ConsentAsOf);
        Assert.Equal("5.0.0", run.Reproducibility.PackageVersions["MathNet.Numerics"]);
        Assert.NotNull(run.StartedAt);
        Assert.NotNull(run.FinishedAt);

        var audited = await scenario.Protocols.OwnerScalarAsync<string>(
            "SELECT outcome || ' ' || user_id FROM app.audit_event WHERE target = @target", new { target = $"AnalysisRun: run {runId}" });
        Assert.Equal($"Success {fixture.CurrentUser.User.UserId}", audited);
    }

    [Fact]
    public async Task A_running_run_is_cancelled_at_its_next_check_through_the_pipelines_token()
    {
        await RunScenario.QuiesceAsync(fixture);
        var scenario = await RunScenario.StartAsync(fixture);
        var pipeline = new FakeRunPipeline { HoldAt = AnalysisStep.Propensity };
        await using var host = new RunWorkerHost(fixture, pipeline);
        await host.StartAsync();
        var runId = await scenario.StartRunAsync();
        await pipeline.Held.Task.WaitAsync(TimeSpan.FromSeconds(20));

        var requested = (await fixture.SendAsync(new CancelAnalysisRun.Command(runId))).Unwrap();
        Assert.Equal((AnalysisRunStatus.Running, true), (requested.Status, requested.CancelRequested));
        var cancelled = await scenario.WaitAsync(runId, s => s.Status == AnalysisRunStatus.Cancelled, "cancelled");
        Assert.Null(cancelled.Result);
        Assert.Equal([true], pipeline.CancelledCalls);

        // A retry runs the same inputs again as the next attempt.
        pipeline.HoldAt = null;
        Assert.Equal(2, (await fixture.SendAsync(new RetryAnalysisRun.Command(runId))).Unwrap().Attempt);
        var done = await scenario.WaitAsync(runId, s => s.Status == AnalysisRunStatus.Succeeded, "succeeded on retry");
        Assert.Equal(2, done.Attempt);
        Assert.Equal(2, pipeline.Calls.Count);
        Assert.Single(pipeline.Calls.Distinct());
    }

    [Fact]
    public async Task A_failure_is_stored_with_its_code_and_a_retry_succeeds_with_the_same_inputs_and_numbers()
    {
        await RunScenario.QuiesceAsync(fixture);
        var scenario = await RunScenario.StartAsync(fixture);
        var pipeline = new FakeRunPipeline { FailNext = 1 };
        await using var host = new RunWorkerHost(fixture, pipeline);
        await host.StartAsync();
        var runId = await scenario.StartRunAsync(seed: 12345);

        var failed = await scenario.WaitAsync(runId, s => s.Status == AnalysisRunStatus.Failed, "failed");
        Assert.Equal("Run.NoEvents", failed.ErrorCode);
        var shown = (await fixture.SendAsync(new GetAnalysisRun.Query(runId))).Unwrap();
        Assert.Equal(new RunError("Run.NoEvents", "No outcome events in the comparator arm."), shown.Error);
        RunScenario.AssertFailed(await fixture.SendAsync(new ExportAnalysisRun.Query(runId, "json")), "Run.NoResult");

        (await fixture.SendAsync(new RetryAnalysisRun.Command(runId))).Unwrap();
        await scenario.WaitAsync(runId, s => s.Status == AnalysisRunStatus.Succeeded, "succeeded");
        var again = await scenario.StartRunAsync(seed: 12345);
        await scenario.WaitAsync(again, s => s.Status == AnalysisRunStatus.Succeeded, "succeeded");

        var compared = (await fixture.SendAsync(new CompareAnalysisRuns.Query(runId, again))).Unwrap();
        Assert.True(compared.SameInputs, string.Join("; ", compared.Inputs.Where(i => i.Differs)));
        Assert.Equal("sacubitril/valsartan", compared.Left.Header!.TreatmentLabel);
        Assert.Equal(compared.Left.Estimates!.HazardRatio, compared.Right.Estimates!.HazardRatio);
        Assert.Equal(0.8 + (12345 % 7) / 1000.0, compared.Left.Estimates.HazardRatio.Value, 12);

        var otherSeed = await scenario.StartRunAsync(seed: 1);
        await scenario.WaitAsync(otherSeed, s => s.Status == AnalysisRunStatus.Succeeded, "succeeded");
        var differs = (await fixture.SendAsync(new CompareAnalysisRuns.Query(runId, otherSeed))).Unwrap();
        Assert.Equal(["seed"], differs.Inputs.Where(i => i.Differs).Select(i => i.Input));
    }

    [Fact]
    public async Task A_run_whose_worker_died_is_taken_by_the_next_worker_as_its_next_attempt_and_finished()
    {
        await RunScenario.QuiesceAsync(fixture);
        var scenario = await RunScenario.StartAsync(fixture);
        var runId = await scenario.StartRunAsync();

        // A worker claims the run and dies: no heartbeat, no end written, its one-second lease runs out.
        await using (var dead = await scenario.OpenAsAppAsync())
        {
            Assert.Equal(runId, await RunScenario.ScalarAsync<Guid>(dead, "SELECT run_id FROM app.claim_analysis_run('dead-worker', 1, 3)"));
        }

        var stuck = await scenario.StoredAsync(runId);
        Assert.Equal((AnalysisRunStatus.Running, "dead-worker", 1), (stuck.Status, stuck.Worker, stuck.Attempt));

        var pipeline = new FakeRunPipeline();
        await using var host = new RunWorkerHost(fixture, pipeline);
        await host.StartAsync();
        var done = await scenario.WaitAsync(runId, s => s.Status == AnalysisRunStatus.Succeeded, "succeeded by the next worker");
        Assert.Equal(2, done.Attempt);
        Assert.StartsWith("test-worker:", done.Worker, StringComparison.Ordinal);
        Assert.Single(pipeline.Calls);
    }

    [Fact]
    public async Task A_run_whose_worker_died_on_its_last_attempt_fails_as_worker_lost_and_can_be_retried()
    {
        await RunScenario.QuiesceAsync(fixture);
        var scenario = await RunScenario.StartAsync(fixture);
        var runId = await scenario.StartRunAsync();
        await using var app = await scenario.OpenAsAppAsync();
        Assert.Equal(runId, await RunScenario.ScalarAsync<Guid>(app, "SELECT run_id FROM app.claim_analysis_run('dead-worker', 1, 1)"));
        await Task.Delay(1500);

        // The next claim finds the lease expired on the last allowed attempt: the run fails, it is not taken again.
        Assert.Null(await app.ExecuteScalarAsync<Guid?>("SELECT run_id FROM app.claim_analysis_run('next-worker', 30, 1)"));
        var lost = await scenario.StoredAsync(runId);
        Assert.Equal((AnalysisRunStatus.Failed, "Run.WorkerLost"), (lost.Status, lost.ErrorCode));

        Assert.Equal(2, (await fixture.SendAsync(new RetryAnalysisRun.Command(runId))).Unwrap().Attempt);
        Assert.Equal(AnalysisRunStatus.Queued, (await scenario.StoredAsync(runId)).Status);
    }

    [Fact]
    public async Task A_worker_whose_host_stops_mid_run_puts_the_run_back_and_another_worker_finishes_it()
    {
        await RunScenario.QuiesceAsync(fixture);
        var scenario = await RunScenario.StartAsync(fixture);
        var first = new FakeRunPipeline { HoldAt = AnalysisStep.Outcomes };
        var runId = Guid.Empty;
        await using (var host = new RunWorkerHost(fixture, first, name: "first"))
        {
            await host.StartAsync();
            runId = await scenario.StartRunAsync();
            await first.Held.Task.WaitAsync(TimeSpan.FromSeconds(20));
        }

        var requeued = await scenario.StoredAsync(runId);
        Assert.Equal((AnalysisRunStatus.Queued, (string?)null), (requeued.Status, requeued.Worker));

        var second = new FakeRunPipeline();
        await using var next = new RunWorkerHost(fixture, second, name: "second");
        await next.StartAsync();
        var done = await scenario.WaitAsync(runId, s => s.Status == AnalysisRunStatus.Succeeded, "succeeded");
        Assert.StartsWith("second:", done.Worker, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_workers_never_run_the_same_run()
    {
        await RunScenario.QuiesceAsync(fixture);
        var scenario = await RunScenario.StartAsync(fixture);

        // Many claims at once on one queued run: exactly one gets it.
        var single = await scenario.StartRunAsync();
        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(async i =>
        {
            await using var connection = await scenario.OpenAsAppAsync();
            return await connection.ExecuteScalarAsync<Guid?>("SELECT run_id FROM app.claim_analysis_run(@worker, 30, 3)", new { worker = $"racer-{i}" });
        }));
        Assert.Equal([single], claims.OfType<Guid>());
        await RunScenario.QuiesceAsync(fixture);

        // Two hosts with two workers each drain six runs: every run once.
        var runs = new List<Guid>();
        for (var i = 0; i < 6; i++)
        {
            runs.Add(await scenario.StartRunAsync(seed: 100 + i));
        }

        var a = new FakeRunPipeline();
        var b = new FakeRunPipeline();
        await using var hostA = new RunWorkerHost(fixture, a, concurrency: 2, name: "a");
        await using var hostB = new RunWorkerHost(fixture, b, concurrency: 2, name: "b");
        await Task.WhenAll(hostA.StartAsync(), hostB.StartAsync());
        foreach (var run in runs)
        {
            var done = await scenario.WaitAsync(run, s => s.Status == AnalysisRunStatus.Succeeded, "succeeded");
            Assert.Equal(1, done.Attempt);
        }

        var seeds = a.Calls.Concat(b.Calls).Select(c => c.Seed).Order().ToList();
        Assert.Equal(Enumerable.Range(100, 6), seeds);
    }

    [Fact]
    public async Task The_list_filters_finished_runs_by_protocol_source_status_date_and_subgroup_and_pages_on_the_server()
    {
        await RunScenario.QuiesceAsync(fixture);
        var scenario = await RunScenario.StartAsync(fixture);
        await using var host = new RunWorkerHost(fixture, new FakeRunPipeline());
        await host.StartAsync();
        var finished = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            finished.Add(await scenario.StartRunAsync(seed: i));
            await scenario.WaitAsync(finished[^1], s => s.Status == AnalysisRunStatus.Succeeded, "succeeded");
        }

        await host.StopAsync();
        var queued = await scenario.StartRunAsync();
        await scenario.AsAnalystAsync();

        var all = (await fixture.SendAsync(new ListAnalysisRuns.Query(scenario.ProtocolId, PageSize: 2))).Unwrap();
        Assert.Equal(4, all.Total);
        Assert.Equal([queued, finished[2]], all.Items.Select(i => i.RunId));
        var page2 = (await fixture.SendAsync(new ListAnalysisRuns.Query(scenario.ProtocolId, Page: 1, PageSize: 2))).Unwrap();
        Assert.Equal([finished[1], finished[0]], page2.Items.Select(i => i.RunId));

        var succeeded = (await fixture.SendAsync(new ListAnalysisRuns.Query(Status: AnalysisRunStatus.Succeeded, Source: scenario.Source))).Unwrap();
        Assert.Equal(3, succeeded.Total);
        var line = succeeded.Items.Single(i => i.RunId == finished[0]);
        Assert.Equal((0.8, 0.8 - 0.1, 0.8 + 0.1), (line.HazardRatio!.Value, line.HazardRatioLower!.Value, line.HazardRatioUpper!.Value));
        Assert.Null(all.Items[0].HazardRatio);

        Assert.Equal(3, (await fixture.SendAsync(new ListAnalysisRuns.Query(scenario.ProtocolId, Subgroup: "Diabetes"))).Unwrap().Total);
        Assert.Equal(0, (await fixture.SendAsync(new ListAnalysisRuns.Query(scenario.ProtocolId, Subgroup: "Diabetic"))).Unwrap().Total);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        Assert.Equal(4, (await fixture.SendAsync(new ListAnalysisRuns.Query(scenario.ProtocolId, From: today, To: today))).Unwrap().Total);
        Assert.Equal(0, (await fixture.SendAsync(new ListAnalysisRuns.Query(scenario.ProtocolId, From: today.AddDays(1)))).Unwrap().Total);
        Assert.Equal(0, (await fixture.SendAsync(new ListAnalysisRuns.Query(scenario.ProtocolId, Source: "elsewhere"))).Unwrap().Total);
    }

    [Fact]
    public async Task Exports_carry_the_shown_counts_only_escape_formulas_and_are_audited()
    {
        await RunScenario.QuiesceAsync(fixture);
        var scenario = await RunScenario.StartAsync(fixture);
        await using var host = new RunWorkerHost(fixture, new FakeRunPipeline());
        await host.StartAsync();
        var runId = await scenario.StartRunAsync(seed: 0);
        await scenario.WaitAsync(runId, s => s.Status == AnalysisRunStatus.Succeeded, "succeeded");
        await scenario.AsAnalystAsync();

        var csv = (await fixture.SendAsync(new ExportAnalysisRun.Query(runId, "csv"))).Unwrap();
        Assert.Equal("text/csv", csv.ContentType);
        var lines = Encoding.UTF8.GetString(csv.Content).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.Equal("section,group,item,arm,measure,value,shown", lines[0]);
        Assert.Contains("arms,,persons,treatment,count,2400,\"2,400\"", lines);
        Assert.Contains("arms,,events,comparator,count,,<11", lines);
        Assert.Contains("estimates,,hazard_ratio,,adjusted,0.8,", lines);
        Assert.DoesNotContain(lines, l => l.Contains(",=prior", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("diagnostics,removed_covariate,", StringComparison.Ordinal) && l.Contains("'=prior ARNI", StringComparison.Ordinal));

        var json = (await fixture.SendAsync(new ExportAnalysisRun.Query(runId, "json"))).Unwrap();
        using var parsed = JsonDocument.Parse(json.Content);
        Assert.Equal("<11", parsed.RootElement.GetProperty("result").GetProperty("arms").GetProperty("eventsComparator").GetProperty("display").GetString());
        Assert.Equal(JsonValueKind.Null, parsed.RootElement.GetProperty("result").GetProperty("arms").GetProperty("eventsComparator").GetProperty("value").ValueKind);
        Assert.Equal(runId, parsed.RootElement.GetProperty("run").GetProperty("id").GetGuid());

        var exports = await scenario.Protocols.OwnerScalarAsync<long>(
            "SELECT count(*) FROM app.audit_event WHERE event_type = 'Export' AND target = @target", new { target = $"ExportAnalysisRun: run {runId}" });
        Assert.Equal(2, exports);
    }

    [Fact]
    public async Task A_run_whose_requester_lost_the_right_to_run_analyses_fails_instead_of_running()
    {
        await RunScenario.QuiesceAsync(fixture);
        var scenario = await RunScenario.StartAsync(fixture);
        var runId = await scenario.StartRunAsync();
        var author = await fixture.FindUserAsync(scenario.Protocols.AuthorEmail);
        await fixture.OwnerSqlAsync($"UPDATE app.tenant_memberships SET role = 'Analyst' WHERE user_id = '{author.Id}'");

        var pipeline = new FakeRunPipeline();
        await using var host = new RunWorkerHost(fixture, pipeline);
        await host.StartAsync();
        var failed = await scenario.WaitAsync(runId, s => s.Status == AnalysisRunStatus.Failed, "failed");
        Assert.Equal("Run.RequesterNotPermitted", failed.ErrorCode);
        Assert.Empty(pipeline.Calls);
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "never saw " + what);
            await Task.Delay(20);
        }
    }
}
