using System.Diagnostics;
using System.Globalization;
using System.Text;
using RwePortal.Analytics.Pipeline;
using RwePortal.Analytics.Propensity;
using RwePortal.Analytics.Simulation;

namespace RwePortal.Cli.Analytics;

/// <summary><c>rwe bench simulate</c> and <c>rwe bench ps</c>: the statistics engine's simulation study and timings.</summary>
internal static class StatisticsBenchmarks
{
    private const string RScript = """
        suppressMessages(library(survival))
        args <- commandArgs(trailingOnly = TRUE)
        d <- read.csv(args[1]); reps <- as.integer(args[2])
        covs <- setdiff(names(d), c("person_id", "treatment", "time", "event"))
        f <- as.formula(paste("treatment ~", paste(covs, collapse = " + ")))
        smd <- function(x, T, w) {
          x1 <- x[T == 1]; x0 <- x[T == 0]
          bin <- function(v) all(v %in% c(0, 1))
          gv <- function(v) if (bin(v)) mean(v) * (1 - mean(v)) else var(v)
          s <- sqrt((gv(x1) + gv(x0)) / 2)
          c((mean(x1) - mean(x0)) / s, (sum(x1 * w[T == 1]) / sum(w[T == 1]) - sum(x0 * w[T == 0]) / sum(w[T == 0])) / s)
        }
        for (r in seq_len(reps)) {
          el <- system.time({
            fit <- glm(f, data = d, family = binomial())
            e <- fitted(fit); T <- d$treatment; p <- mean(T)
            w <- T * p / e + (1 - T) * (1 - p) / (1 - e)
            ess <- c(sum(w[T == 1])^2 / sum(w[T == 1]^2), sum(w[T == 0])^2 / sum(w[T == 0]^2))
            bal <- sapply(covs, function(v) smd(d[[v]], T, w))
            km <- survfit(Surv(time, event) ~ treatment, data = d, weights = w)
            s <- summary(km, times = c(90, 180, 365, 730), extend = TRUE)
            cb <- coxph(Surv(time, event) ~ treatment, data = d, weights = w, robust = TRUE, ties = "breslow")
            ce <- coxph(Surv(time, event) ~ treatment, data = d, weights = w, robust = TRUE, ties = "efron")
          })[["elapsed"]]
          cat(sprintf("elapsed %.4f\n", el))
        }
        cat(sprintf("hr %.12f\n", exp(coef(ce))))
        cat(sprintf("version %s survival %s\n", R.version.string, packageVersion("survival")))
        """;

    public static Task<int> SimulateAsync(int replicates, int cohortSize, TextWriter output)
    {
        var clock = Stopwatch.StartNew();
        var report = SimulationStudy.Run(replicates, cohortSize, conditionalHr: 0.7, seed: 1000);
        var sb = new StringBuilder();
        sb.AppendLine(Inv($"Replicates: {report.Replicates}, cohort size {report.CohortSize}, conditional HR {report.ConditionalHr:F2}, marginal HR {report.MarginalHr:F4} (log {Math.Log(report.MarginalHr):F4}; from 400,000 persons' potential outcomes). Run time {clock.Elapsed.TotalSeconds:F1} s."));
        sb.AppendLine();
        sb.AppendLine("| estimator | mean log HR | bias vs marginal | bias vs conditional | empirical SE | mean robust SE | coverage (marginal) | coverage (conditional) |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var e in report.Estimators)
        {
            sb.AppendLine(Inv($"| {e.Estimator} | {e.MeanLogHr:F4} | {e.BiasMarginal:+0.0000;-0.0000} | {e.BiasConditional:+0.0000;-0.0000} | {e.EmpiricalSe:F4} | {e.MeanRobustSe:F4} | {e.CoverageMarginal:P1} | {e.CoverageConditional:P1} |"));
        }

        output.Write(sb.ToString());
        return Task.FromResult(0);
    }

    public static async Task<int> PsAsync(bool dense, bool sparse, int denseN, int sparseN, int sparseP, TextWriter output, CancellationToken cancellationToken)
    {
        await output.WriteLineAsync(Inv($"machine: {Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024):F1} GiB available to .NET, {Environment.OSVersion}, .NET {Environment.Version}"));
        if (dense)
        {
            await DenseAsync(denseN, output, cancellationToken);
        }

        if (sparse)
        {
            await SparseAsync(sparseN, sparseP, output);
        }

        return 0;
    }

    private static async Task DenseAsync(int n, TextWriter output, CancellationToken cancellationToken)
    {
        const int Covariates = 50;
        var cohort = SyntheticCohorts.Dense(n, Covariates, conditionalHr: 0.7, seed: 42);
        var dir = Directory.CreateTempSubdirectory("rwe-bench-ps-");
        try
        {
            var csv = Path.Combine(dir.FullName, "cohort.csv");
            WriteCsv(cohort, csv);
            var read = Stopwatch.StartNew();
            var (loaded, error) = CohortCsvReader.Read(csv, null);
            read.Stop();
            if (error is not null)
            {
                await output.WriteLineAsync(error.ToString());
                return;
            }

            var times = new List<double>();
            PsAnalysisResult? result = null;
            for (var r = 0; r < 4; r++)
            {
                var clock = Stopwatch.StartNew();
                result = PsAnalysis.Run(loaded!, new PsAnalysisOptions()).Result;
                clock.Stop();
                if (r > 0)
                {
                    times.Add(clock.Elapsed.TotalSeconds);
                }
            }

            times.Sort();
            var ours = times[times.Count / 2];
            await output.WriteLineAsync(Inv($"dense: n={n:N0}, {Covariates} covariates; CSV read {read.Elapsed.TotalSeconds:F2} s; pipeline (PS + weights + balance + KM + Cox Breslow & Efron, robust SE) median of 3 = {ours:F3} s (runs: {string.Join(", ", times.Select(t => t.ToString("F3", CultureInfo.InvariantCulture)))}); HR {result!.CoxEfron.Hr:F10}"));

            var rscript = FindRscript();
            if (rscript is null)
            {
                await output.WriteLineAsync("Rscript not found on PATH: the R comparison is skipped. Install R with: apt-get install -y r-base-core r-cran-survival r-cran-jsonlite");
            }
            else
            {
                var script = Path.Combine(dir.FullName, "bench.R");
                await File.WriteAllTextAsync(script, RScript, cancellationToken);
                var (code, stdout, stderr) = await RunProcessAsync(rscript, [script, csv, "3"], cancellationToken);
                if (code != 0)
                {
                    await output.WriteLineAsync($"R failed (exit {code}): {stderr.Trim()}");
                }
                else
                {
                    var rTimes = stdout.Split('\n').Where(l => l.StartsWith("elapsed ", StringComparison.Ordinal))
                        .Select(l => double.Parse(l[8..], CultureInfo.InvariantCulture)).Order().ToList();
                    var rHr = stdout.Split('\n').First(l => l.StartsWith("hr ", StringComparison.Ordinal))[3..];
                    var version = stdout.Split('\n').FirstOrDefault(l => l.StartsWith("version ", StringComparison.Ordinal))?[8..];
                    var rMedian = rTimes[rTimes.Count / 2];
                    await output.WriteLineAsync(Inv($"R ({version}): glm + weights + balance + survfit + coxph x2 median of 3 = {rMedian:F3} s (runs: {string.Join(", ", rTimes.Select(t => t.ToString("F3", CultureInfo.InvariantCulture)))}); HR {rHr}"));
                    await output.WriteLineAsync(Inv($"speed-up vs R: {rMedian / ours:F1}x (target >= 3x)"));
                }
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }

        await output.WriteLineAsync(Inv($"peak working set so far: {Environment.WorkingSet / (1024.0 * 1024):F0} MiB now, {Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024):F0} MiB peak"));
    }

    private static async Task SparseAsync(int n, int p, TextWriter output)
    {
        var gen = Stopwatch.StartNew();
        var data = SyntheticCohorts.Sparse(n, p, density: 0.01, conditionalHr: 0.7, seed: 7);
        gen.Stop();
        await output.WriteLineAsync(Inv($"sparse: n={n:N0}, {p:N0} binary covariates, {data.Covariates.NonZeros:N0} non-zeros ({100.0 * data.Covariates.NonZeros / ((double)n * p):F2}%), generated in {gen.Elapsed.TotalSeconds:F1} s"));
        var clock = Stopwatch.StartNew();
        var outcome = PsAnalysis.RunPenalized(data.Outcomes, data.Covariates, new PsAnalysisOptions(), new PenalizedOptions
        {
            Penalty = Penalty.L1,
            Folds = 10,
            OnStep = step => output.WriteLine(Inv($"  lambda {step.Index + 1}: {step.Lambda:E3}, CV deviance {step.MeanDeviance:F1}, mean non-zero {step.MeanNonZero:F0}, {step.Elapsed.TotalSeconds:F1} s")),
        });
        clock.Stop();
        var r = outcome.Result!;
        await output.WriteLineAsync(Inv($"sparse pipeline (L1 PS with 10-fold CV + weights + balance on all columns + KM + Cox): {clock.Elapsed.TotalSeconds:F1} s (target <= 60 s); non-zero PS coefficients {r.Propensity.Names.Count - 1}; c-statistic {r.Propensity.CStatistic:F3}; max |SMD| after {r.Diagnostics.MaxAbsSmdAfter:F3}; HR {r.CoxEfron.Hr:F4}"));
        await output.WriteLineAsync(Inv($"peak working set: {Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024):F0} MiB"));
    }

    private static void WriteCsv(Cohort cohort, string path)
    {
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        writer.Write("person_id,treatment,time,event");
        foreach (var name in cohort.CovariateNames)
        {
            writer.Write(',');
            writer.Write(name);
        }

        writer.Write('\n');
        for (var i = 0; i < cohort.Count; i++)
        {
            writer.Write(Inv($"{cohort.PersonIds[i]},{cohort.Treatment[i]},{cohort.Time[i]},{cohort.Event[i]}"));
            foreach (var col in cohort.Covariates)
            {
                writer.Write(',');
                writer.Write(col[i].ToString("R", CultureInfo.InvariantCulture));
            }

            writer.Write('\n');
        }
    }

    private static string? FindRscript()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(dir, "Rscript");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunProcessAsync(string file, IEnumerable<string> args, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, await stdout, await stderr);
    }

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
