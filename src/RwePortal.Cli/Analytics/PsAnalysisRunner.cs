using System.Globalization;
using RwePortal.Analytics.Pipeline;
using RwePortal.Analytics.Weighting;

namespace RwePortal.Cli.Analytics;

/// <summary>Arguments of <c>rwe ps-analysis</c>, as typed on the command line.</summary>
internal sealed record PsAnalysisArguments(
    string Data,
    string Estimand,
    string? Truncate,
    string? Covariates,
    string Out,
    string? WeightsOut,
    string Adjustment = "weighting");

/// <summary>
/// <c>rwe ps-analysis</c>: reads the cohort, runs the analysis and writes result.json (and weights.csv). Any bad
/// input ends with a non-zero exit code and a message naming file, line and column; no output file is written
/// unless the whole analysis succeeded.
/// </summary>
internal static class PsAnalysisRunner
{
    public const int ExitOk = 0;
    public const int ExitBadArguments = 2;
    public const int ExitBadInput = 3;
    public const int ExitAnalysisFailed = 4;

    public static async Task<int> RunAsync(PsAnalysisArguments args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (!TryEstimand(args.Estimand, out var estimand))
        {
            await stderr.WriteLineAsync($"--estimand must be ATE, ATT or ATO (got '{args.Estimand}').");
            return ExitBadArguments;
        }

        if (!Enum.TryParse<Adjustment>(args.Adjustment, ignoreCase: true, out var adjustment))
        {
            await stderr.WriteLineAsync($"--adjustment must be weighting, matching or stratification (got '{args.Adjustment}').");
            return ExitBadArguments;
        }

        Truncation? truncation = null;
        if (args.Truncate is not null)
        {
            var parts = args.Truncate.Split(',');
            if (parts.Length != 2
                || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var lo)
                || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var hi)
                || lo < 0 || hi > 1 || lo >= hi)
            {
                await stderr.WriteLineAsync($"--truncate must be two quantiles 0 <= low < high <= 1 such as 0.01,0.99 (got '{args.Truncate}').");
                return ExitBadArguments;
            }

            truncation = new Truncation(lo, hi);
        }

        var covariates = args.Covariates?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var (cohort, error) = CohortCsvReader.Read(args.Data, covariates);
        if (error is not null)
        {
            await stderr.WriteLineAsync(error.ToString());
            return ExitBadInput;
        }

        cancellationToken.ThrowIfCancellationRequested();
        var options = new PsAnalysisOptions { Estimand = estimand, Truncation = truncation, Adjustment = adjustment, RemoveSeparatingCovariates = false };
        var outcome = PsAnalysis.Run(cohort!, options);
        var file = Path.GetFileName(args.Data);
        if (outcome.Failure is { } failure)
        {
            var column = failure.Covariate is null ? string.Empty : $", column '{failure.Covariate}'";
            await stderr.WriteLineAsync($"{file}{column}: {failure.Code}: {failure.Message}");
            return ExitAnalysisFailed;
        }

        var result = outcome.Result!;
        var json = PsAnalysisFiles.ResultJson(result, cohort!.Count);
        await WriteAtomicallyAsync(args.Out, json, cancellationToken);
        if (args.WeightsOut is not null)
        {
            await WriteAtomicallyAsync(args.WeightsOut, PsAnalysisFiles.WeightsCsv(cohort, result), cancellationToken);
        }

        await stdout.WriteLineAsync(string.Create(
            CultureInfo.InvariantCulture,
            $"{file}: n={cohort.Count} treated={result.Counts.Treated} {estimand.ToString().ToUpperInvariant()} HR(Efron)={result.CoxEfron.Hr:F4} [{result.CoxEfron.CiLower:F4}, {result.CoxEfron.CiUpper:F4}] max|SMD|={result.Diagnostics.MaxAbsSmdAfter:F3} equipoise={result.Diagnostics.Equipoise:F2} -> {args.Out}"));
        return ExitOk;
    }

    private static bool TryEstimand(string text, out Estimand estimand)
    {
        estimand = text.ToUpperInvariant() switch
        {
            "ATE" => Estimand.Ate,
            "ATT" => Estimand.Att,
            "ATO" => Estimand.Ato,
            _ => (Estimand)(-1),
        };
        return Enum.IsDefined(estimand);
    }

    private static async Task WriteAtomicallyAsync(string path, byte[] content, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(path);
        var temp = full + ".tmp";
        await File.WriteAllBytesAsync(temp, content, cancellationToken);
        File.Move(temp, full, overwrite: true);
    }
}
