using RwePortal.Analytics.Pipeline;
using RwePortal.Analytics.Survival;

namespace RwePortal.Analytics.Simulation;

/// <summary>Performance of one estimator over the replicates, against the marginal and the conditional truth.</summary>
public sealed record EstimatorPerformance(
    string Estimator,
    int Replicates,
    double MeanLogHr,
    double BiasMarginal,
    double BiasConditional,
    double EmpiricalSe,
    double MeanRobustSe,
    double CoverageMarginal,
    double CoverageConditional);

public sealed record SimulationReport(int Replicates, int CohortSize, double ConditionalHr, double MarginalHr, IReadOnlyList<EstimatorPerformance> Estimators);

/// <summary>
/// Repeated synthetic confounded cohorts with a known treatment effect: bias of the log HR and coverage of the
/// robust 95% CI for IPTW (ATE, stabilized) and for the unadjusted Cox model. The conditional HR is the one
/// simulated; because the HR is non-collapsible the marginal HR that IPTW targets differs, so it is computed
/// from a large potential-outcome population (everyone treated vs everyone untreated, same censoring).
/// </summary>
public static class SimulationStudy
{
    public static SimulationReport Run(int replicates, int cohortSize, double conditionalHr, int seed, int truthPopulation = 400_000)
    {
        var marginal = MarginalLogHr(conditionalHr, truthPopulation, seed - 1);
        var iptw = new double[replicates];
        var iptwSe = new double[replicates];
        var crude = new double[replicates];
        var crudeSe = new double[replicates];
        Parallel.For(0, replicates, r =>
        {
            var (cohort, _) = SyntheticCohorts.Confounded(cohortSize, conditionalHr, seed + r);
            var outcome = PsAnalysis.Run(cohort, new PsAnalysisOptions());
            var fit = outcome.Result?.CoxEfron;
            iptw[r] = fit?.LogHr ?? double.NaN;
            iptwSe[r] = fit?.SeRobust ?? double.NaN;
            var x = cohort.Treatment.Select(t => (double)t).ToArray();
            var ones = new double[cohort.Count];
            Array.Fill(ones, 1.0);
            var unadjusted = CoxModel.Fit(cohort.Time, cohort.Event, x, ones, TieMethod.Efron);
            crude[r] = unadjusted.LogHr;
            crudeSe[r] = unadjusted.SeRobust;
        });

        var logConditional = Math.Log(conditionalHr);
        return new SimulationReport(replicates, cohortSize, conditionalHr, Math.Exp(marginal),
        [
            Summarize("IPTW (ATE, stabilized), Cox Efron, robust SE", iptw, iptwSe, marginal, logConditional),
            Summarize("Unadjusted Cox Efron, robust SE", crude, crudeSe, marginal, logConditional),
        ]);
    }

    /// <summary>Log HR of the Cox model fitted to the stacked potential outcomes of a large population.</summary>
    public static double MarginalLogHr(double conditionalHr, int population, int seed)
    {
        var (_, potential) = SyntheticCohorts.Confounded(population, conditionalHr, seed);
        var n = population;
        var time = new double[2 * n];
        var status = new int[2 * n];
        var x = new double[2 * n];
        var w = new double[2 * n];
        for (var i = 0; i < n; i++)
        {
            (time[i], status[i], x[i]) = (potential.TimeIfTreated[i], potential.EventIfTreated[i], 1);
            (time[n + i], status[n + i], x[n + i]) = (potential.TimeIfControl[i], potential.EventIfControl[i], 0);
        }

        Array.Fill(w, 1.0);
        return CoxModel.Fit(time, status, x, w, TieMethod.Efron).LogHr;
    }

    private static EstimatorPerformance Summarize(string name, double[] est, double[] se, double marginal, double conditional)
    {
        var ok = Enumerable.Range(0, est.Length).Where(i => double.IsFinite(est[i]) && double.IsFinite(se[i])).ToArray();
        var mean = ok.Average(i => est[i]);
        var empSe = Math.Sqrt(ok.Sum(i => (est[i] - mean) * (est[i] - mean)) / (ok.Length - 1));
        double Coverage(double truth) => ok.Count(i => Math.Abs(est[i] - truth) <= 1.959963984540054 * se[i]) / (double)ok.Length;
        return new EstimatorPerformance(name, ok.Length, mean, mean - marginal, mean - conditional, empSe, ok.Average(i => se[i]), Coverage(marginal), Coverage(conditional));
    }
}
