using System.Collections.Concurrent;
using RwePortal.Application.Analyses;

namespace RwePortal.Application.Tests.Jobs;

/// <summary>
/// A stand-in for the analysis pipeline, for the queue's mechanics: it walks the steps reporting progress, may wait at a
/// step until released (honouring the token, as the real one does), fails when told to, and records every call.
/// </summary>
internal sealed class FakeRunPipeline : IProtocolRunPipeline
{
    private int _running;

    /// <summary>The step at which the pipeline waits for <see cref="Release"/> (null: it does not wait).</summary>
    public AnalysisStep? HoldAt { get; set; }

    /// <summary>Calls that fail with this code (counted down: 1 fails the next call only).</summary>
    public int FailNext { get; set; }

    public string FailCode { get; set; } = "Run.NoEvents";

    /// <summary>Whether the pipeline ignores its token while holding (a worker that is killed, not cancelled).</summary>
    public bool IgnoreToken { get; set; }

    public TaskCompletionSource Held { get; private set; } = NewSource();

    public TaskCompletionSource Gate { get; private set; } = NewSource();

    public ConcurrentBag<(string ProtocolHash, int Seed, string Source)> Calls { get; } = [];

    public ConcurrentBag<bool> CancelledCalls { get; } = [];

    public int MaxConcurrent { get; private set; }

    public void Release() => Gate.TrySetResult();

    /// <summary>Arms the hold again for the next call.</summary>
    public void Reset()
    {
        Held = NewSource();
        Gate = NewSource();
    }

    public async Task<ProtocolRunOutput> RunAsync(ProtocolRunInput input, IProgress<AnalysisProgress> progress, CancellationToken cancellationToken)
    {
        Calls.Add((input.ProtocolHash, input.Seed, input.Source));
        var now = Interlocked.Increment(ref _running);
        MaxConcurrent = Math.Max(MaxConcurrent, now);
        try
        {
            foreach (var step in Enum.GetValues<AnalysisStep>())
            {
                progress.Report(new AnalysisProgress(step, $"{step}: working", 0.5));
                if (step == HoldAt)
                {
                    Held.TrySetResult();
                    try
                    {
                        await (IgnoreToken ? Gate.Task : Gate.Task.WaitAsync(cancellationToken));
                    }
                    catch (OperationCanceledException)
                    {
                        CancelledCalls.Add(true);
                        throw;
                    }
                }

                cancellationToken.ThrowIfCancellationRequested();
                await Task.Delay(5, CancellationToken.None);
            }

            if (FailNext > 0)
            {
                FailNext--;
                throw new ProtocolRunFailedException(FailCode, "No outcome events in the comparator arm.");
            }

            return new ProtocolRunOutput(
                Document(input),
                new RunFacts(
                    new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero),
                    new Shown(null, "<11"),
                    "abc1234",
                    new Dictionary<string, string> { ["RwePortal.Analytics"] = "1.0.0", ["MathNet.Numerics"] = "5.0.0" }));
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }

    /// <summary>A complete result document whose hazard ratio depends on the seed (so a rerun with the same seed agrees).</summary>
    public static AnalysisResultDocument Document(ProtocolRunInput input, string subgroup = "Diabetes")
    {
        var hr = 0.8 + (input.Seed % 7) / 1000.0;
        return new AnalysisResultDocument(
            AnalysisResultDocument.CurrentFormat,
            new AnalysisHeader("ARNI vs enalapril", input.ProtocolVersion, input.ProtocolHash, input.Source, input.Purpose,
                "sacubitril/valsartan", "enalapril", "heart failure hospitalisation", "itt", "ATE", "iptw", "dense",
                new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero)),
            [new AttritionLine("new users", new Shown(2400, "2,400"), new Shown(3100, "3,100"))],
            new ArmSummary(new Shown(2400, "2,400"), new Shown(3100, "3,100"), new Shown(180, "180"), new Shown(null, "<11"), 1500.5, 2001.25, 2100.5, 2900.75),
            new PreferenceScoreDistribution([0.25, 0.75], [1.2, 0.8], [0.7, 1.3], 0.71),
            [new BalanceLine("age", "demographics", 67.1, 64.2, 0.21, 65.5, 65.4, 0.01)],
            new DiagnosticsReport([new DiagnosticGate("max |SMD|", 0.01, 0.1, true, "below")], [new RemovedCovariate("=prior ARNI", "near-perfect predictor")], ["weights truncated at 0.01/0.99"]),
            [new SurvivalCurve("treatment", "survival", [0, 30], [1, 0.97], [1, 0.96], [1, 0.98])],
            [new RiskTableLine(0, new Shown(2400, "2,400"), new Shown(3100, "3,100"), 2400.5, 3100.5)],
            new EffectEstimates(new Estimate(hr, hr - 0.1, hr + 0.1, 0.01), new Estimate(0.5, 0.4, 0.6, 0.001), null,
                [new HorizonEffect(365, 0.08, 0.1, new Estimate(-0.02, -0.03, -0.01, null), new Estimate(0.8, 0.7, 0.9, null))], 1.81, 1.35),
            [],
            [new SubgroupEstimate(subgroup, new Shown(800, "800"), new Shown(900, "900"), new Shown(50, "50"), new Shown(60, "60"), new Estimate(0.75, 0.6, 0.95, 0.02), 0.04, true, null)],
            [new CovariateAggregate("diabetes", "condition 365d", new Shown(1000, "1,000"), new Shown(null, "<11"), null, null)]);
    }

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
