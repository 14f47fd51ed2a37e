using System.CommandLine;
using RwePortal.Cli.Analytics;

namespace RwePortal.Cli.Commands;

/// <summary>The statistics engine's commands: <c>rwe ps-analysis</c> and the <c>bench simulate</c>/<c>bench ps</c> benchmarks.</summary>
internal static class AnalyticsCommands
{
    public static IEnumerable<Command> Create()
    {
        yield return PsAnalysis();
        yield return BenchCommand.Create(BenchSubcommands());
    }

    /// <summary>The analytics benchmarks, for the shared <c>bench</c> parent.</summary>
    public static IEnumerable<Command> BenchSubcommands()
    {
        var replicates = new Option<int>("--replicates") { Description = "Number of synthetic cohorts.", DefaultValueFactory = _ => 200 };
        var size = new Option<int>("--n") { Description = "Persons per cohort.", DefaultValueFactory = _ => 2000 };
        var simulate = new Command("simulate", "Simulation study: bias of the log HR and coverage of the robust 95% CI, IPTW (ATE) vs unadjusted, known true HR.");
        simulate.Options.Add(replicates);
        simulate.Options.Add(size);
        simulate.SetAction((parseResult, cancellationToken) =>
            StatisticsBenchmarks.SimulateAsync(parseResult.GetValue(replicates), parseResult.GetValue(size), Console.Out));
        yield return simulate;

        var skipDense = new Option<bool>("--skip-dense") { Description = "Skip the dense benchmark (n=100,000, 50 covariates, against R)." };
        var skipSparse = new Option<bool>("--skip-sparse") { Description = "Skip the sparse benchmark (n=250,000, 20,000 binary covariates, L1 with 10-fold CV)." };
        var denseN = new Option<int>("--dense-n") { Description = "Persons in the dense benchmark.", DefaultValueFactory = _ => 100_000 };
        var sparseN = new Option<int>("--sparse-n") { Description = "Persons in the sparse benchmark.", DefaultValueFactory = _ => 250_000 };
        var sparseP = new Option<int>("--sparse-p") { Description = "Sparse covariates in the sparse benchmark.", DefaultValueFactory = _ => 20_000 };
        var ps = new Command("ps", "Times the full PS pipeline: dense against R (glm + survfit + coxph, same data, same run) and sparse L1 with cross-validation.");
        foreach (var option in new Option[] { skipDense, skipSparse, denseN, sparseN, sparseP })
        {
            ps.Options.Add(option);
        }

        ps.SetAction((parseResult, cancellationToken) => StatisticsBenchmarks.PsAsync(
            !parseResult.GetValue(skipDense),
            !parseResult.GetValue(skipSparse),
            parseResult.GetValue(denseN),
            parseResult.GetValue(sparseN),
            parseResult.GetValue(sparseP),
            Console.Out,
            cancellationToken));
        yield return ps;
    }

    private static Command PsAnalysis()
    {
        var data = new Option<string>("--data") { Description = "Cohort CSV: person_id, treatment (0/1), time (days > 0), event (0/1), numeric covariates.", Required = true };
        var estimand = new Option<string>("--estimand") { Description = "ATE (stabilized IPTW), ATT or ATO (overlap weights).", Required = true };
        var truncate = new Option<string?>("--truncate") { Description = "Clip weights to these quantiles of all weights, e.g. 0.01,0.99." };
        var covariates = new Option<string?>("--covariates") { Description = "Comma-separated covariate columns (default: every other column)." };
        var output = new Option<string>("--out") { Description = "Where to write result.json.", Required = true };
        var weightsOut = new Option<string?>("--weights-out") { Description = "Where to write per-person person_id,ps,weight." };
        var adjustment = new Option<string>("--adjustment") { Description = "weighting (default), matching (1:1 on logit PS, caliper 0.2 SD) or stratification (PS quintiles).", DefaultValueFactory = _ => "weighting" };

        var command = new Command("ps-analysis", "Propensity-score weighted outcome analysis of a cohort CSV (PS model, weights, balance, KM, Cox, E-values).");
        foreach (var option in new Option[] { data, estimand, truncate, covariates, output, weightsOut, adjustment })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var args = new PsAnalysisArguments(
                parseResult.GetValue(data)!,
                parseResult.GetValue(estimand)!,
                parseResult.GetValue(truncate),
                parseResult.GetValue(covariates),
                parseResult.GetValue(output)!,
                parseResult.GetValue(weightsOut),
                parseResult.GetValue(adjustment) ?? "weighting");
            return await PsAnalysisRunner.RunAsync(args, Console.Out, Console.Error, cancellationToken);
        });
        return command;
    }
}
