using Bunit;
using MediatR;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using RwePortal.Application.Common;
using RwePortal.Application.Features.Analyses;
using RwePortal.Application.Jobs;
using RwePortal.Application.Security;
using RwePortal.Web.Features.Analyses;
using RwePortal.Web.Tests.Features.Subgroups;

namespace RwePortal.Web.Tests.Features.Analyses;

/// <summary>The run page: progress by step while the run works, the results once it succeeded, the error with its code, and cancel/retry only for those who may run.</summary>
public sealed class AnalysisRunPageTests : BunitContext, IAsyncLifetime
{
    private static readonly Guid RunId = Guid.NewGuid();
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    internal static readonly UserContext Lead =
        new(Guid.NewGuid(), "lead@acme.test", "Acme Lead", false, Guid.NewGuid(), "Acme Pharma", [TenantRole.StudyLead]);

    internal static readonly UserContext Analyst =
        new(Guid.NewGuid(), "analyst@acme.test", "Acme Analyst", false, Guid.NewGuid(), "Acme Pharma", [TenantRole.Analyst]);

    private readonly BuilderMediator _mediator = new();
    private readonly AnalysisRunSignals _signals = new();

    public AnalysisRunPageTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IMediator>(_mediator);
        Services.AddSingleton(_signals);
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    internal static GetAnalysisRun.Response Run(
        string status, string? step = null, IReadOnlyList<RunStepTiming>? timings = null, RunError? error = null, bool withResult = false, Guid? id = null) => new(
        id ?? RunId, Guid.NewGuid(), "Sacubitril/valsartan vs ACE inhibitors", 3, new string('c', 64), "synthetic", "research", status, step,
        status == AnalysisRunStatus.Running ? $"Fitting the {step} step" : null, status == AnalysisRunStatus.Running ? 0.4 : null, timings ?? [], 1, false, error,
        "Acme Lead", T0, T0.AddSeconds(1), AnalysisRunStatus.IsFinished(status) ? T0.AddSeconds(30) : null,
        new RunReproducibility(3, new string('c', 64), "synthetic", "research", 1234, T0.AddDays(-1), new DateOnly(2026, 11, 30), AnalysisTestData.Hidden, "abc1234",
            new Dictionary<string, string> { ["MathNet.Numerics"] = "5.0.0" }),
        withResult ? AnalysisTestData.Document() : null);

    private IRenderedComponent<AnalysisRunPage> Open(UserContext user, int pollMilliseconds = 600_000)
    {
        Render<MudPopoverProvider>();
        Render<MudSnackbarProvider>();
        return Render<AnalysisRunPage>(p => p.Add(c => c.Id, RunId).Add(c => c.PollInterval, TimeSpan.FromMilliseconds(pollMilliseconds)).AddCascadingValue(user));
    }

    private static string[] States(IRenderedComponent<AnalysisRunPage> page) =>
        page.FindAll("[data-testid=run-step]").Select(e => $"{e.GetAttribute("data-step")}:{e.GetAttribute("data-state")}").ToArray();

    [Fact]
    public void A_watched_run_shows_its_steps_as_it_progresses_and_its_results_when_it_succeeds()
    {
        var cohort = new RunStepTiming("Cohort", T0.AddSeconds(1), T0.AddSeconds(3.5));
        var covariates = new RunStepTiming("Covariates", T0.AddSeconds(3.5), T0.AddSeconds(9));
        var propensity = new RunStepTiming("Propensity", T0.AddSeconds(9), null);
        var queued = Run(AnalysisRunStatus.Queued);
        var running = Run(AnalysisRunStatus.Running, "Propensity", [cohort, covariates, propensity]);
        var finished = Run(AnalysisRunStatus.Succeeded, null, [cohort, covariates, propensity with { FinishedAt = T0.AddSeconds(12) }], withResult: true);
        var reads = 0;
        var done = 0;
        _mediator.Answer<GetAnalysisRun.Query, Result<GetAnalysisRun.Response>>(_ =>
            Volatile.Read(ref done) == 1 ? finished : Interlocked.Increment(ref reads) == 1 ? queued : running);

        var page = Open(Lead, pollMilliseconds: 50);

        page.WaitForAssertion(() => Assert.Contains("Propensity:running", States(page)), TimeSpan.FromSeconds(15));
        Assert.Equal(["Cohort:done", "Covariates:done", "Propensity:running", "Weights:pending", "Balance:pending", "Outcomes:pending", "Subgroups:pending", "Calibration:pending"], States(page));
        Assert.Equal(["2.5 s", "5.5 s"], page.FindAll("[data-testid=run-step-seconds]").Select(e => e.TextContent.Trim()));
        Assert.Equal("Fitting the Propensity step", page.Find("[data-testid=run-message]").TextContent.Trim());
        Assert.Single(page.FindAll("[data-testid=run-cancel]"));
        Assert.Empty(page.FindAll("[data-testid=analysis-result]"));

        Volatile.Write(ref done, 1);
        page.WaitForAssertion(() => Assert.Equal("succeeded", page.Find("[data-testid=run-status]").GetAttribute("data-status")), TimeSpan.FromSeconds(15));
        Assert.All(States(page), state => Assert.EndsWith(":done", state, StringComparison.Ordinal));
        Assert.Single(page.FindAll("[data-testid=analysis-result]"));
        Assert.Equal("0.81 (0.70–0.94)", page.Find("[data-testid=hr-adjusted]").TextContent.Trim());
        Assert.Equal("<11", page.Find("[data-testid=repro-consent-removed]").TextContent.Trim());
        Assert.Equal($"analyses/{RunId}/export.csv", page.Find("[data-testid=run-export-csv]").GetAttribute("href"));
        Assert.Empty(page.FindAll("[data-testid=run-cancel]"));
    }

    [Fact]
    public void A_change_notice_for_the_watched_run_updates_the_page_at_once_and_one_for_another_run_does_not()
    {
        var status = AnalysisRunStatus.Queued;
        _mediator.Answer<GetAnalysisRun.Query, Result<GetAnalysisRun.Response>>(_ => Volatile.Read(ref status) == AnalysisRunStatus.Queued
            ? Run(AnalysisRunStatus.Queued)
            : Run(AnalysisRunStatus.Running, "Cohort", [new RunStepTiming("Cohort", T0, null)]));
        var page = Open(Lead);
        page.WaitForAssertion(() => Assert.Equal("true", page.Find("[data-testid=run-title]").GetAttribute("data-interactive")));
        var reads = _mediator.SentOf<GetAnalysisRun.Query>().Count();

        Volatile.Write(ref status, AnalysisRunStatus.Running);
        _signals.Raise(Guid.NewGuid());
        Assert.Equal(reads, _mediator.SentOf<GetAnalysisRun.Query>().Count());
        _signals.Raise(RunId);

        page.WaitForAssertion(() => Assert.Equal("running", page.Find("[data-testid=run-status]").GetAttribute("data-status")));
        Assert.Contains("Cohort:running", States(page));
    }

    [Fact]
    public void A_failed_run_shows_its_error_code_and_the_step_it_failed_in_and_a_lead_may_retry_it()
    {
        _mediator
            .Answer<GetAnalysisRun.Query, Result<GetAnalysisRun.Response>>(_ => Run(
                AnalysisRunStatus.Failed, "Propensity", [new RunStepTiming("Cohort", T0, T0.AddSeconds(1)), new RunStepTiming("Covariates", T0.AddSeconds(1), T0.AddSeconds(2))],
                new RunError("Run.ArmEmpty", "The comparator arm has no persons after the study population's criteria.")))
            .Answer<RetryAnalysisRun.Command, Result<RetryAnalysisRun.Response>>(c => new RetryAnalysisRun.Response(c.RunId, 2));

        var page = Open(Lead);

        Assert.Equal("Run.ArmEmpty", page.Find("[data-testid=run-error-code]").TextContent.Trim());
        Assert.Contains("comparator arm has no persons", page.Find("[data-testid=run-error]").TextContent, StringComparison.Ordinal);
        Assert.Contains("Propensity:failed", States(page));
        Assert.Empty(page.FindAll("[data-testid=run-cancel]"));
        Assert.Empty(page.FindAll("[data-testid=run-export-csv]"));

        page.Find("button[data-testid=run-retry]").Click();

        page.WaitForAssertion(() => Assert.Equal(RunId, Assert.Single(_mediator.SentOf<RetryAnalysisRun.Command>()).RunId));
    }

    [Fact]
    public void An_analyst_sees_neither_cancel_nor_retry()
    {
        _mediator.Answer<GetAnalysisRun.Query, Result<GetAnalysisRun.Response>>(_ => Run(AnalysisRunStatus.Running, "Cohort", [new RunStepTiming("Cohort", T0, null)]));

        var page = Open(Analyst);

        Assert.Equal("running", page.Find("[data-testid=run-status]").GetAttribute("data-status"));
        Assert.Empty(page.FindAll("[data-testid=run-cancel]"));
        Assert.Empty(page.FindAll("[data-testid=run-retry]"));
    }

    [Fact]
    public void A_lead_cancels_a_running_run()
    {
        _mediator
            .Answer<GetAnalysisRun.Query, Result<GetAnalysisRun.Response>>(_ => Run(AnalysisRunStatus.Running, "Cohort", [new RunStepTiming("Cohort", T0, null)]))
            .Answer<CancelAnalysisRun.Command, Result<CancelAnalysisRun.Response>>(c => new CancelAnalysisRun.Response(c.RunId, AnalysisRunStatus.Running, true));

        var page = Open(Lead);
        page.Find("button[data-testid=run-cancel]").Click();

        page.WaitForAssertion(() => Assert.Equal(RunId, Assert.Single(_mediator.SentOf<CancelAnalysisRun.Command>()).RunId));
    }

    [Fact]
    public void Another_tenants_run_is_not_found()
    {
        _mediator.Answer<GetAnalysisRun.Query, Result<GetAnalysisRun.Response>>(_ => new Error("Run.NotFound", "The analysis run was not found."));

        var page = Open(Analyst);

        Assert.Contains("does not exist in Acme Pharma", page.Find("[data-testid=run-not-found]").TextContent, StringComparison.Ordinal);
    }
}
