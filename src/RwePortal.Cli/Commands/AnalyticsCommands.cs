using System.CommandLine;
using RwePortal.Cli.Analytics;

namespace RwePortal.Cli.Commands;

/// <summary>The statistics engine's commands: <c>rwe ps-analysis</c>.</summary>
internal static class AnalyticsCommands
{
    public static IEnumerable<Command> Create()
    {
        yield return PsAnalysis();
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
