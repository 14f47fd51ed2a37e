using System.Data;
using System.Globalization;
using System.Reflection;
using Dapper;
using RwePortal.Analytics.Calibration;
using RwePortal.Analytics.Effects;
using RwePortal.Analytics.Propensity;
using RwePortal.Analytics.Survival;
using RwePortal.Analytics.Weighting;
using RwePortal.Application.Privacy;
using RwePortal.Warehouse;
using RwePortal.Warehouse.Analyses;
using RwePortal.Warehouse.Protocols;
using AnalyticsEstimand = RwePortal.Analytics.Weighting.Estimand;

namespace RwePortal.Application.Analyses;

/// <summary>
/// The run of one approved protocol version on one source (docs/analyses.md): the study population and its attrition,
/// baseline covariates, the protocol's propensity model, weights (or matching or strata), balance on every covariate,
/// weighted Kaplan–Meier and Cox (Efron, robust variance clustered by person), risks at the horizons, E-value, the
/// heterogeneity subgroups and the negative controls with empirical calibration. Reads the warehouse as the read-only
/// role in one read-only repeatable-read transaction (one snapshot for every statement); every count of the result goes
/// through the input's small-cell policy seeded by what the count is, so the same inputs give the same document.
/// </summary>
public sealed class ProtocolRunPipeline(
    WarehouseConnections warehouse,
    IAnalysisSources sources,
    IBaselineCovariateExtractor covariates,
    TimeProvider clock) : IProtocolRunPipeline
{
    /// <summary>Seconds one warehouse statement of a run may take.</summary>
    public const int StatementTimeoutSeconds = 600;

    /// <summary>|correlation with treatment| above which a covariate leaves the PS model (CohortMethod's check, decision 1013).</summary>
    public const double MaxCorrelationWithTreatment = 0.5;

    /// <summary>Negative controls with estimates needed before the estimate is calibrated.</summary>
    public const int MinNegativeControlsForCalibration = 5;

    /// <summary>OHDSI's thresholds for the gates the protocol does not set: MDRR and EASE.</summary>
    public const double MaxMdrr = 10;

    public const double MaxEase = 0.25;

    private const int PreferenceBins = 50;

    /// <summary>
    /// The L1 model's cross-validation and fit use at most this many persons (a seeded random sample, each arm in
    /// proportion); the unpenalised refit and the scores use everyone (decision 1100).
    /// </summary>
    public const int MaxPersonsForLasso = 20_000;

    /// <summary>
    /// Convergence of the lasso's cross-validation folds (CohortMethod's Cyclops tolerance, 2e-7); the lasso's final fit
    /// keeps <see cref="PenalizedOptions.Tolerance"/> (decision 1104).
    /// </summary>
    public const double CrossValidationTolerance = 2e-7;

    /// <summary>At most this many covariates are refitted without penalty after the lasso.</summary>
    private const int MaxRefitColumns = 500;

    private static readonly int[] RiskTableDays = [0, 90, 180, 365, 730, 1095];

    public async Task<ProtocolRunOutput> RunAsync(ProtocolRunInput input, IProgress<AnalysisProgress> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(progress);
        var protocol = input.Protocol;
        if (!protocol.IsComplete)
        {
            throw new ProtocolRunFailedException("Run.ProtocolIncomplete", "Only a complete protocol can be run.");
        }

        var source = await sources.FindAsync(input.Source, cancellationToken)
            ?? throw new ProtocolRunFailedException("Run.SourceNotFound", $"The data source '{input.Source}' does not exist.");
        var plan = protocol.AnalysisPlan!;
        var run = new Run(input);

        progress.Report(new AnalysisProgress(AnalysisStep.Cohort, "study population and attrition"));
        StudyPopulation population;
        CovariateData data;
        PersonPeriodData? personPeriods;
        using var stopCovariates = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<CovariateData>? early = null;
        try
        {
            await using (var connection = await warehouse.OpenAsync(cancellationToken))
            {
                await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
                await connection.ExecuteAsync(new CommandDefinition("SET TRANSACTION READ ONLY", transaction: transaction, cancellationToken: cancellationToken));

                // The covariates need only the members: their extraction (a read-only transaction of its own on a connection
                // of its own, as it was after the cohort's) starts once the cohort statement has them and overlaps the rest
                // of the study population (decision 1105).
                population = await StudyPopulationExtractor.ExtractAsync(
                    connection, source.SchemaName, source.Name, input.Purpose, protocol, StatementTimeoutSeconds,
                    members => early = HasBothArms(members) ? Task.Run(() => ExtractCovariatesAsync(source, input.Purpose, members, protocol.Assignment!, stopCovariates.Token)) : null,
                    cancellationToken);
                personPeriods = protocol.Contrast!.Type == ContrastType.PerProtocol
                    ? await PersonPeriodExtractor.ExtractAsync(connection, source.SchemaName, source.Name, input.Purpose, protocol, population.Members, PersonPeriodExtractor.DefaultPeriodDays, StatementTimeoutSeconds, cancellationToken)
                    : null;
                if (!HasBothArms(population.Members))
                {
                    var treated = population.Members.Count(m => m.Treated);
                    throw new ProtocolRunFailedException("Run.ArmEmpty", $"The {(treated == 0 ? protocol.Strategies!.Treatment.Label : protocol.Strategies!.Comparator.Label)} arm of the study population is empty.");
                }

                await transaction.CommitAsync(cancellationToken);
            }

            cancellationToken.ThrowIfCancellationRequested();
            progress.Report(new AnalysisProgress(AnalysisStep.Covariates, $"baseline covariates of {run.Count(population.Members.Count, "persons").Display} persons"));
            data = await (early ?? ExtractCovariatesAsync(source, input.Purpose, population.Members, protocol.Assignment!, cancellationToken));
        }
        catch
        {
            // A failed or cancelled cohort step leaves no extraction running behind it.
            await stopCovariates.CancelAsync();
            if (early is not null)
            {
                try
                {
                    await early;
                }
                catch (Exception stopped) when (stopped is not OutOfMemoryException)
                {
                    // Cancelled with the run, or failed on its own: the cohort step's failure is the one to report.
                }
            }

            throw;
        }

        var n = population.Members.Count;
        var t = population.Members.Select(m => m.Treated ? 1 : 0).ToArray();
        var ids = population.Members.Select(m => m.PersonId).ToArray();
        var columns = CovariateColumns.From(data, n);
        var time = population.Outcome.Select(f => (double)f.Days).ToArray();
        var status = population.Outcome.Select(f => f.Event ? 1 : 0).ToArray();
        if (status.Sum() == 0)
        {
            throw new ProtocolRunFailedException("Run.NoEvents", "No member of the study population has the outcome during follow-up.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        progress.Report(new AnalysisProgress(AnalysisStep.Propensity, $"{(plan.PropensityScore.Model == PsModelKind.L1 ? "L1-penalised" : "dense")} propensity model on {columns.Count} covariates"));
        var (ps, removed, psNotes) = FitPropensity(columns, t, plan, input.Seed, progress, cancellationToken);

        cancellationToken.ThrowIfCancellationRequested();
        progress.Report(new AnalysisProgress(AnalysisStep.Weights, plan.Adjustment.ToString().ToLowerInvariant()));
        var (weights, weightNotes) = Weigh(ps, t, plan);

        cancellationToken.ThrowIfCancellationRequested();
        progress.Report(new AnalysisProgress(AnalysisStep.Balance, $"balance on {columns.Count} covariates"));
        var balance = Balance(columns, t, weights, null);

        cancellationToken.ThrowIfCancellationRequested();
        progress.Report(new AnalysisProgress(AnalysisStep.Outcomes, "Kaplan–Meier, Cox, risks at horizons"));
        var outcomes = Outcomes(time, status, t, weights, ids, plan, protocol.FollowUp!.MaxDays, run);

        cancellationToken.ThrowIfCancellationRequested();
        progress.Report(new AnalysisProgress(AnalysisStep.Subgroups, $"{population.Subgroups.Count} heterogeneity subgroups"));
        var subgroups = population.Subgroups.Select(s => Subgroup(s, columns, time, status, t, weights, ids, plan, run)).ToList();

        cancellationToken.ThrowIfCancellationRequested();
        progress.Report(new AnalysisProgress(AnalysisStep.Calibration, $"{population.NegativeControls.Count} negative controls"));
        var notes = new List<string>(psNotes.Concat(weightNotes));
        var controls = new List<NegativeControlEstimate>();
        var controlFits = new List<(double LogRr, double SeLogRr)>();
        foreach (var control in population.NegativeControls)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var rows = Enumerable.Range(0, n).Where(i => control.FollowUp[i] is not null).ToArray();
            var events = rows.Count(i => control.FollowUp[i]!.Value.Event);
            var eventsT = rows.Count(i => control.FollowUp[i]!.Value.Event && t[i] == 1);
            if (eventsT == 0 || events == eventsT)
            {
                notes.Add($"negative control {control.Name} [{control.ConceptId}]: no events in an arm, no estimate");
                continue;
            }

            var fit = CoxModel.Fit(
                [.. rows.Select(i => (double)control.FollowUp[i]!.Value.Days)], [.. rows.Select(i => control.FollowUp[i]!.Value.Event ? 1 : 0)],
                [.. rows.Select(i => (double)t[i])], [.. rows.Select(i => weights[i])], TieMethod.Efron, [.. rows.Select(i => ids[i])]);
            if (!double.IsFinite(fit.LogHr) || !double.IsFinite(fit.SeRobust) || fit.SeRobust <= 0)
            {
                notes.Add($"negative control {control.Name} [{control.ConceptId}]: the Cox model did not give an estimate");
                continue;
            }

            controlFits.Add((fit.LogHr, fit.SeRobust));
            controls.Add(new NegativeControlEstimate(control.ConceptId, control.Name, run.Shown(events, "nco-events", control.ConceptId.ToString(CultureInfo.InvariantCulture)),
                new Estimate(fit.Hr, fit.CiLower, fit.CiUpper, fit.PValue)));
        }

        Estimate? calibrated = null;
        double? ease = null;
        if (controlFits.Count >= MinNegativeControlsForCalibration)
        {
            var nullDistribution = EmpiricalCalibration.FitNull(controlFits);
            if (nullDistribution.IsValid)
            {
                var ci = EmpiricalCalibration.CalibrateConfidenceInterval(nullDistribution, outcomes.Cox.LogHr, outcomes.Cox.SeRobust);
                calibrated = new Estimate(ci.Rr, ci.RrLower, ci.RrUpper, EmpiricalCalibration.CalibrateP(nullDistribution, outcomes.Cox.LogHr, outcomes.Cox.SeRobust));
                ease = EmpiricalCalibration.ExpectedAbsoluteSystematicError(nullDistribution);
            }
        }
        else
        {
            notes.Add($"calibration needs at least {MinNegativeControlsForCalibration} negative controls with estimates ({controlFits.Count} here): the estimate is not calibrated");
        }

        // Per protocol: IPCW-weighted pooled analysis over sequential trials (PerProtocolAnalysis) replaces the censoring-only estimate.
        var perProtocol = personPeriods is null ? null : PerProtocolAnalysis.Run(personPeriods, weights, ps, plan.HorizonsDays, protocol.FollowUp!.MaxDays, run.Threshold, input.Seed);

        // Gates.
        var gates = new List<DiagnosticGate>();
        var maxSmd = balance.Count == 0 ? 0 : balance.Max(b => Math.Abs(b.Balance.SmdAfter));
        gates.Add(new DiagnosticGate("balance", maxSmd, plan.Diagnostics.MaxAbsSmd, maxSmd < plan.Diagnostics.MaxAbsSmd, "max |SMD| after adjustment below the threshold"));
        var share = (double)t.Sum() / n;
        var preference = PropensityDiagnostics.PreferenceScores(ps, share);
        var equipoise = plan.Diagnostics.Equipoise ?? new EquipoiseThreshold(PropensityDiagnostics.PreferenceLow, PropensityDiagnostics.PreferenceHigh, 0.2);
        var inside = preference.Count(f => f >= equipoise.Lower && f <= equipoise.Upper) / (double)n;
        gates.Add(new DiagnosticGate("equipoise", inside, equipoise.MinShare, inside >= equipoise.MinShare,
            $"share with a preference score in [{equipoise.Lower:0.##}, {equipoise.Upper:0.##}] at least the threshold"));
        var essT = PsWeights.EffectiveSampleSize(Enumerable.Range(0, n).Where(i => t[i] == 1).Select(i => weights[i]));
        var essC = PsWeights.EffectiveSampleSize(Enumerable.Range(0, n).Where(i => t[i] == 0).Select(i => weights[i]));
        if (plan.Diagnostics.MinEffectiveSampleSize is { } minEss)
        {
            gates.Add(new DiagnosticGate("effective sample size (treatment)", essT, minEss, essT >= minEss, "ESS of the arm after adjustment at least the threshold"));
            gates.Add(new DiagnosticGate("effective sample size (comparator)", essC, minEss, essC >= minEss, "ESS of the arm after adjustment at least the threshold"));
        }

        var mdrr = Mdrr.Compute(t.Count(x => x == 1), t.Count(x => x == 0), status.Sum());
        gates.Add(new DiagnosticGate("MDRR", Finite(mdrr, double.MaxValue), MaxMdrr, mdrr < MaxMdrr, "minimum detectable relative risk (alpha 0.05, power 0.8) below the threshold"));
        if (ease is { } e)
        {
            gates.Add(new DiagnosticGate("EASE", e, MaxEase, e <= MaxEase, "expected absolute systematic error of the negative controls at most the threshold"));
        }

        var eventsTreated = Enumerable.Range(0, n).Count(i => t[i] == 1 && status[i] == 1);
        var eventsComparator = status.Sum() - eventsTreated;
        var (centres, densityT, densityC) = Densities(preference, t);

        // The arms are the attrition's last line, shown the same way.
        var attrition = Attrition(population, run);
        var document = new AnalysisResultDocument(
            AnalysisResultDocument.CurrentFormat,
            new AnalysisHeader(
                protocol.General!.Title, input.ProtocolVersion, input.ProtocolHash, source.Name, input.Purpose,
                protocol.Strategies!.Treatment.Label, protocol.Strategies.Comparator.Label, protocol.Outcome!.Label,
                protocol.Contrast.Type == ContrastType.PerProtocol ? "perProtocol" : "intentionToTreat",
                plan.Estimand switch { Warehouse.Protocols.Estimand.Att => "ATT", Warehouse.Protocols.Estimand.Overlap => "overlap", _ => "ATE" },
                plan.Adjustment.ToString().ToLowerInvariant(),
                plan.PropensityScore.Model == PsModelKind.L1 ? $"L1-penalised logistic regression, {plan.PropensityScore.CrossValidationFolds ?? 10}-fold cross-validation" : "logistic regression",
                clock.GetUtcNow()),
            attrition,
            new ArmSummary(
                attrition[^1].Treatment, attrition[^1].Comparator,
                run.Shown(eventsTreated, "events", "treatment"), run.Shown(eventsComparator, "events", "comparator"),
                PersonYears(time, t, 1), PersonYears(time, t, 0), essT, essC),
            new PreferenceScoreDistribution(centres, densityT, densityC, PropensityDiagnostics.CStatistic(ps, t)),
            [.. balance.Select(b => new BalanceLine(columns.Refs[b.Column].Name, columns.Refs[b.Column].Group,
                b.Balance.MeanTreatmentBefore, b.Balance.MeanComparatorBefore, b.Balance.SmdBefore,
                b.Balance.MeanTreatmentAfter, b.Balance.MeanComparatorAfter, b.Balance.SmdAfter))],
            new DiagnosticsReport(gates, removed, notes),
            outcomes.Curves,
            outcomes.AtRisk,
            new EffectEstimates(
                new Estimate(outcomes.Cox.Hr, outcomes.Cox.CiLower, outcomes.Cox.CiUpper, outcomes.Cox.PValue),
                new Estimate(outcomes.Unadjusted.Hr, outcomes.Unadjusted.CiLower, outcomes.Unadjusted.CiUpper, outcomes.Unadjusted.PValue),
                calibrated,
                outcomes.Horizons,
                outcomes.EValue.Point,
                outcomes.EValue.Ci),
            controls,
            subgroups,
            [.. Enumerable.Range(0, columns.Count).Select(j => Aggregate(columns, j, t, run))]);

        document = perProtocol?.Apply(document, (double)status.Sum() / n) ?? document;
        var facts = new RunFacts(
            source.LoadedAt,
            run.Shown(population.RemovedByConsent, "removed-by-consent"),
            CodeVersion(),
            PackageVersions());
        return new ProtocolRunOutput(document, facts);
    }

    /// <summary>The counts of one run: each through the policy, seeded by the run's inputs and what the count is.</summary>
    private sealed class Run(ProtocolRunInput input)
    {
        // A policy without a noise key (the command line's default, decision 0703) suppresses small counts without noise.
        public ProtectedCount Count(long exact, params string[] measure) => input.Policy.CanPerturb
            ? input.Policy.Count(exact, QuerySeed.Of([input.ProtocolHash, input.Source, input.Purpose, .. measure]))
            : input.Policy.Suppress(exact);

        public Shown Shown(long exact, params string[] measure) => Analyses.Shown.From(Count(exact, measure));

        public int Threshold => input.Policy.Threshold;
    }

    private static List<AttritionLine> Attrition(StudyPopulation population, Run run)
    {
        var shown = population.Attrition.Select((step, i) => (
            Label: step.Label,
            T: run.Count(step.Treatment, "attrition", i.ToString(CultureInfo.InvariantCulture), "treatment"),
            C: run.Count(step.Comparator, "attrition", i.ToString(CultureInfo.InvariantCulture), "comparator"))).ToList();

        // A funnel never grows: an earlier step shown below a later one is raised to it (post-processing of shown numbers).
        for (var i = shown.Count - 2; i >= 0; i--)
        {
            if (shown[i].T.Value is { } a && shown[i + 1].T.Value is { } b && a < b)
            {
                shown[i] = shown[i] with { T = shown[i + 1].T };
            }

            if (shown[i].C.Value is { } c && shown[i + 1].C.Value is { } d && c < d)
            {
                shown[i] = shown[i] with { C = shown[i + 1].C };
            }
        }

        return [.. shown.Select(s => new AttritionLine(s.Label, Shown.From(s.T), Shown.From(s.C)))];
    }

    private static (double[] Ps, List<RemovedCovariate> Removed, List<string> Notes) FitPropensity(
        CovariateColumns columns, int[] t, AnalysisPlan plan, int seed, IProgress<AnalysisProgress> progress, CancellationToken cancellationToken)
    {
        var removed = new List<RemovedCovariate>();
        var notes = new List<string>();

        // The groups the PS model uses: the named covariate specs of the assignment, or all.
        var groups = plan.PropensityScore.Covariates.Count == 0 ? null : plan.PropensityScore.Covariates.ToHashSet(StringComparer.Ordinal);
        var used = new List<int>();
        for (var j = 0; j < columns.Count; j++)
        {
            if (groups is not null && !InGroups(columns.Refs[j], groups))
            {
                continue;
            }

            if (columns.IsConstant(j))
            {
                continue;
            }

            var r = columns.CorrelationWithTreatment(j, t);
            if (Math.Abs(r) > MaxCorrelationWithTreatment)
            {
                removed.Add(new RemovedCovariate(columns.Refs[j].Name,
                    string.Create(CultureInfo.InvariantCulture, $"correlation with treatment {r:0.###} beyond ±{MaxCorrelationWithTreatment}: almost predicts the arm, left out of the propensity model")));
                continue;
            }

            used.Add(j);
        }

        if (used.Count == 0)
        {
            notes.Add("no covariate varies in the study population: the propensity score is the share treated");
            var share = (double)t.Sum() / t.Length;
            return ([.. t.Select(_ => share)], removed, notes);
        }

        if (plan.PropensityScore.Model == PsModelKind.L1)
        {
            var (matrix, from) = columns.Indicators(used);
            var folds = plan.PropensityScore.CrossValidationFolds ?? 10;
            var cv = PenalizedLogisticRegression.FitCrossValidated(matrix, t, new PenalizedOptions
            {
                Penalty = Penalty.L1,
                Folds = folds,
                Seed = seed,
                MaxPersonsForFitting = MaxPersonsForLasso,
                CrossValidationTolerance = CrossValidationTolerance,
                OnStep = step =>
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    progress.Report(new AnalysisProgress(AnalysisStep.Propensity, $"cross-validation: λ {step.Index + 1}", null));
                },
            });
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"propensity model: L1, λ = {cv.Fit.Lambda:G4} by {cv.Folds}-fold cross-validation, {cv.Fit.NonZero} of {matrix.Columns} indicators non-zero"));
            if (cv.FittedOn < t.Length)
            {
                notes.Add(string.Create(CultureInfo.InvariantCulture,
                    $"the L1 model (cross-validation and fit) used a random {cv.FittedOn:N0} of the {t.Length:N0} persons, each arm in proportion; the unpenalised refit uses everyone"));
            }

            // Relaxed (decision 1013): the binary covariates the lasso kept and every continuous covariate (linear, as the
            // large-scale set has few) refitted by maximum likelihood; the lasso's own fit when that refit cannot be made.
            var selected = Enumerable.Range(0, matrix.Columns).Where(k => cv.Fit.Coefficients[k] != 0 && columns.Refs[from[k]].Binary).Select(k => from[k])
                .Concat(used.Where(j => !columns.Refs[j].Binary)).Distinct().Order().ToList();
            if (selected.Count > 0 && selected.Count <= MaxRefitColumns && Dense(columns, selected, t, removed, notes, cancellationToken) is { } refit)
            {
                notes.Add($"propensity model refitted without penalty on {refit.Kept} covariates: the lasso's binary covariates and the continuous ones");
                return (refit.Ps, removed, notes);
            }

            return (Clip(cv.Fit.Fitted), removed, notes);
        }

        return Dense(columns, used, t, removed, notes, cancellationToken) is { } dense
            ? (dense.Ps, removed, notes)
            : throw new ProtocolRunFailedException("Run.PropensityFailed", "The propensity model separates the arms whatever covariates it is left with.");
    }

    /// <summary>A maximum-likelihood logistic fit, refitted without a covariate that separates the arms (named) until none does; null when it cannot converge.</summary>
    private static (double[] Ps, int Kept)? Dense(
        CovariateColumns columns, List<int> used, int[] t, List<RemovedCovariate> removed, List<string> notes, CancellationToken cancellationToken)
    {
        var kept = used.ToList();
        for (var attempt = 0; attempt < 20 && kept.Count > 0; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var sparse = kept.Select(columns.Sparse).ToList();
            var names = kept.Select(j => columns.Refs[j].Name).ToList();
            var before = SeparationCheck.BeforeFit(sparse, names, t);
            if (before is not null)
            {
                removed.Add(new RemovedCovariate(before.Covariate, before.Reason));
                kept.RemoveAt(names.IndexOf(before.Covariate));
                continue;
            }

            LogisticFit fit;
            try
            {
                fit = LogisticRegression.FitSparse(sparse, names, t);
            }
            catch (ArgumentException)
            {
                return null;
            }

            var after = SeparationCheck.AfterFit(fit, sparse);
            if (after is not null && names.IndexOf(after.Covariate) is var at and >= 0)
            {
                removed.Add(new RemovedCovariate(after.Covariate, after.Reason));
                kept.RemoveAt(at);
                continue;
            }

            if (!fit.Converged)
            {
                return null;
            }

            notes.Add($"propensity model: logistic regression on {kept.Count} covariates, {fit.Iterations} iterations");
            if (fit.Aliased.Count > 0)
            {
                notes.Add($"{fit.Aliased.Count} of them are linear combinations of the others (e.g. a concept and its one-concept group, or a window holding every occurrence): no coefficient of their own, as in R's glm");
            }

            return (Clip(fit.Fitted), kept.Count);
        }

        return null;
    }

    /// <summary>Whether a covariate comes from one of the named specs: its group is "spec/analysis" (or the spec's name alone).</summary>
    private static bool InGroups(CovariateRef covariate, HashSet<string> groups)
    {
        var at = covariate.Group.LastIndexOf('/');
        return groups.Contains(at < 0 ? covariate.Group : covariate.Group[..at]);
    }

    private static bool HasBothArms(IReadOnlyList<PopulationMember> members)
    {
        var treated = members.Count(m => m.Treated);
        return treated > 0 && treated < members.Count;
    }

    /// <summary>The members' baseline covariates over a warehouse connection of their own.</summary>
    private async Task<CovariateData> ExtractCovariatesAsync(
        AnalysisSource source, string purpose, IReadOnlyList<PopulationMember> members, Assignment assignment, CancellationToken cancellationToken)
    {
        await using var connection = await warehouse.OpenAsync(cancellationToken);
        return await covariates.ExtractAsync(connection, source, purpose, [.. members.Select(m => m.Person)], assignment, cancellationToken);
    }

    /// <summary>Propensity scores kept inside (0, 1) so weights stay finite.</summary>
    private static double[] Clip(double[] ps) => [.. ps.Select(p => Math.Clamp(p, 1e-6, 1 - 1e-6))];

    private static (double[] Weights, List<string> Notes) Weigh(double[] ps, int[] t, AnalysisPlan plan)
    {
        var notes = new List<string>();
        var estimand = plan.Estimand switch
        {
            Warehouse.Protocols.Estimand.Att => AnalyticsEstimand.Att,
            Warehouse.Protocols.Estimand.Overlap => AnalyticsEstimand.Ato,
            _ => AnalyticsEstimand.Ate,
        };
        double[] weights;
        switch (plan.Adjustment)
        {
            case Adjustment.Matching:
                var caliper = plan.Matching?.Caliper ?? NearestNeighbourMatching.DefaultCaliperSd;
                var match = NearestNeighbourMatching.Match(ps, t, caliper);
                if (match.Pairs.Count == 0)
                {
                    throw new ProtocolRunFailedException("Run.NoMatches", "No treated person has a comparator within the caliper.");
                }

                weights = match.Weights;
                notes.Add(string.Create(CultureInfo.InvariantCulture, $"1:1 nearest-neighbour matching on the logit of the PS, caliper {caliper} SD: {match.Pairs.Count} pairs"));
                if (plan.Matching is { Ratio: > 1 } spec)
                {
                    notes.Add($"the protocol asks for 1:{spec.Ratio} matching; this version matches 1:1");
                }

                break;
            case Adjustment.Stratification:
                weights = PsStratification.Stratify(ps, t, estimand, plan.Strata ?? 5).Weights;
                notes.Add($"{plan.Strata ?? 5} PS strata, marginal mean weights");
                break;
            default:
                weights = PsWeights.Compute(ps, t, estimand);
                break;
        }

        if (plan.Truncation is { } truncation && plan.Adjustment != Adjustment.Matching)
        {
            weights = PsWeights.Truncate(weights, truncation.Lower, truncation.Upper);
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"weights truncated to their {truncation.Lower} and {truncation.Upper} quantiles"));
        }

        return (weights, notes);
    }

    private sealed record ColumnLine(int Column, ColumnBalance Balance);

    private static List<ColumnLine> Balance(CovariateColumns columns, int[] t, double[] weights, bool[]? mask)
    {
        double n1 = 0, n0 = 0, w1 = 0, w0 = 0;
        for (var i = 0; i < t.Length; i++)
        {
            if (mask is not null && !mask[i])
            {
                continue;
            }

            if (t[i] == 1)
            {
                n1++;
                w1 += weights[i];
            }
            else
            {
                n0++;
                w0 += weights[i];
            }
        }

        return [.. Enumerable.Range(0, columns.Count).Select(j => new ColumnLine(j, columns.Balance(j, t, weights, mask, n1, n0, w1, w0)))];
    }

    private sealed record OutcomeResults(
        CoxFit Cox, CoxFit Unadjusted, List<SurvivalCurve> Curves, List<RiskTableLine> AtRisk, List<HorizonEffect> Horizons, EValueResult EValue);

    private static OutcomeResults Outcomes(double[] time, int[] status, int[] t, double[] weights, long[] ids, AnalysisPlan plan, int maxDays, Run run)
    {
        var n = time.Length;
        var x = t.Select(v => (double)v).ToArray();
        var cox = CoxModel.Fit(time, status, x, weights, TieMethod.Efron, ids);
        var unadjusted = CoxModel.Fit(time, status, x, [.. Enumerable.Repeat(1.0, n)], TieMethod.Efron, ids);
        if (!double.IsFinite(cox.LogHr) || !double.IsFinite(cox.SeRobust))
        {
            throw new ProtocolRunFailedException("Run.NoEstimate", "The weighted Cox model gives no finite estimate (an arm without events?).");
        }

        KmCurve Km(int arm)
        {
            var rows = Enumerable.Range(0, n).Where(i => t[i] == arm).ToArray();
            return KaplanMeier.Fit([.. rows.Select(i => time[i])], [.. rows.Select(i => status[i])], [.. rows.Select(i => weights[i])], [.. rows.Select(i => ids[i])]);
        }

        var km1 = Km(1);
        var km0 = Km(0);
        var curves = new List<SurvivalCurve> { Curve("treatment", km1, time, t, 1, run.Threshold), Curve("comparator", km0, time, t, 0, run.Threshold) };

        // Cumulative incidence 1 − S with the band flipped (as CumulativeIncidence.FromSurvival), ending where the survival curve ends.
        curves.AddRange([.. curves.Select(c => new SurvivalCurve(
            c.Arm, "cumulativeIncidence", c.Time, [.. c.Estimate.Select(s => 1 - s)], [.. c.Upper.Select(u => 1 - u)], [.. c.Lower.Select(l => 1 - l)]))]);

        var times = RiskTableDays.Where(d => d < maxDays).Append(maxDays).Distinct().ToList();
        var atRisk = times.Select(d =>
        {
            int c1 = 0, c0 = 0;
            double w1 = 0, w0 = 0;
            for (var i = 0; i < n; i++)
            {
                if (time[i] < d)
                {
                    continue;
                }

                if (t[i] == 1)
                {
                    c1++;
                    w1 += weights[i];
                }
                else
                {
                    c0++;
                    w0 += weights[i];
                }
            }

            var day = d.ToString(CultureInfo.InvariantCulture);
            var shown1 = run.Count(c1, "at-risk", day, "treatment");
            var shown0 = run.Count(c0, "at-risk", day, "comparator");

            // A weighted number at risk beside a hidden count would tell it: hidden together.
            return new RiskTableLine(d, Shown.From(shown1), Shown.From(shown0), shown1.Hidden ? 0 : w1, shown0.Hidden ? 0 : w0);
        }).ToList();

        var z = 1.959963984540054;
        var horizons = new List<HorizonEffect>();
        foreach (var risk in RiskEffects.Compute(km1, km0, [.. plan.HorizonsDays.Select(h => (double)h)]))
        {
            var p1 = km1.At(risk.Horizon);
            var p0 = km0.At(risk.Horizon);
            var seRd = (risk.RiskDifferenceUpper - risk.RiskDifferenceLower) / (2 * z);
            var rd = new Estimate(risk.RiskDifference, risk.RiskDifferenceLower, risk.RiskDifferenceUpper, seRd > 0 ? TwoSided(risk.RiskDifference / seRd) : null);

            // log RR by the delta method: Var R = S²·Var log S per arm, arms independent.
            double VarLogRisk(KmPoint? p, double r) => p is null || r <= 0 ? double.NaN : p.Survival * p.Survival * p.StdErrLog * p.StdErrLog / (r * r);
            var seLogRr = Math.Sqrt(VarLogRisk(p1, risk.RiskTreated) + VarLogRisk(p0, risk.RiskControl));
            var rr = double.IsFinite(risk.RiskRatio) && risk.RiskRatio > 0 && double.IsFinite(seLogRr)
                ? new Estimate(risk.RiskRatio, Math.Exp(Math.Log(risk.RiskRatio) - (z * seLogRr)), Math.Exp(Math.Log(risk.RiskRatio) + (z * seLogRr)),
                    seLogRr > 0 ? TwoSided(Math.Log(risk.RiskRatio) / seLogRr) : null)
                : new Estimate(Finite(risk.RiskRatio, 0), 0, 0, null);
            horizons.Add(new HorizonEffect((int)risk.Horizon, risk.RiskTreated, risk.RiskControl, rd, rr));
        }

        var common = (double)status.Sum() / n >= EValue.CommonOutcomeShare;
        var eValue = EValue.FromHazardRatio(cox.Hr, cox.CiLower, cox.CiUpper, common);
        return new OutcomeResults(cox, unadjusted, curves, atRisk, horizons, eValue);
    }

    private static double TwoSided(double z) => 2 * MathNet.Numerics.Distributions.Normal.CDF(0, 1, -Math.Abs(z));

    private static double Finite(double value, double otherwise) => double.IsFinite(value) ? value : otherwise;

    /// <summary>A weighted KM curve from time zero, ending before the first time fewer persons than the threshold are at risk.</summary>
    private static SurvivalCurve Curve(string arm, KmCurve km, double[] time, int[] t, int armValue, int threshold)
    {
        var armTimes = time.Where((_, i) => t[i] == armValue).OrderBy(v => v).ToArray();
        var times = new List<double> { 0 };
        var estimate = new List<double> { 1 };
        var lower = new List<double> { 1 };
        var upper = new List<double> { 1 };
        foreach (var point in km.Points)
        {
            var atRisk = armTimes.Length - LowerBound(armTimes, point.Time);
            if (atRisk < threshold)
            {
                break;
            }

            times.Add(point.Time);
            estimate.Add(point.Survival);
            lower.Add(Finite(point.Lower, 0));
            upper.Add(Finite(point.Upper, 1));
        }

        return new SurvivalCurve(arm, "survival", times, estimate, lower, upper);
    }

    private static int LowerBound(double[] sorted, double value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (sorted[mid] < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private static double PersonYears(double[] time, int[] t, int arm) =>
        Enumerable.Range(0, time.Length).Where(i => t[i] == arm).Sum(i => time[i]) / 365.25;

    private static (List<double> Centres, List<double> Treatment, List<double> Comparator) Densities(double[] preference, int[] t)
    {
        var width = 1.0 / PreferenceBins;
        var centres = Enumerable.Range(0, PreferenceBins).Select(b => (b + 0.5) * width).ToList();
        var h1 = new double[PreferenceBins];
        var h0 = new double[PreferenceBins];
        for (var i = 0; i < preference.Length; i++)
        {
            var bin = Math.Clamp((int)(preference[i] / width), 0, PreferenceBins - 1);
            (t[i] == 1 ? h1 : h0)[bin]++;
        }

        List<double> Density(double[] h)
        {
            var total = h.Sum();
            return [.. h.Select(c => total > 0 ? c / (total * width) : 0)];
        }

        return (centres, Density(h1), Density(h0));
    }

    /// <summary>
    /// A heterogeneity subgroup, with the overall weights restricted to its members (decision 1014): its HR from the
    /// weighted Cox model on its members, and the max |SMD| of every covariate within it.
    /// </summary>
    private static SubgroupEstimate Subgroup(
        SubgroupMembershipFlags subgroup, CovariateColumns columns, double[] time, int[] status, int[] t, double[] weights, long[] ids, AnalysisPlan plan, Run run)
    {
        var mask = subgroup.Members.ToArray();
        var rows = Enumerable.Range(0, t.Length).Where(i => mask[i]).ToArray();
        var personsT = rows.Count(i => t[i] == 1);
        var personsC = rows.Length - personsT;
        var eventsT = rows.Count(i => t[i] == 1 && status[i] == 1);
        var eventsC = rows.Count(i => t[i] == 0 && status[i] == 1);
        Shown Count(long exact, string measure) => run.Shown(exact, "subgroup", subgroup.Name, measure);
        var balance = Balance(columns, t, weights, mask);
        var maxSmd = balance.Count == 0 ? 0 : balance.Max(b => Math.Abs(b.Balance.SmdAfter));
        Estimate? hr = null;
        string? note = null;
        var weighted = rows.Any(i => weights[i] > 0 && t[i] == 1) && rows.Any(i => weights[i] > 0 && t[i] == 0);
        if (personsT < run.Threshold || personsC < run.Threshold)
        {
            note = "fewer persons in an arm than the small-cell threshold: no estimate";
        }
        else if (eventsT == 0 || eventsC == 0 || !weighted)
        {
            note = "no events (or no weighted persons) in an arm: no estimate";
        }
        else
        {
            var fit = CoxModel.Fit(
                [.. rows.Select(i => time[i])], [.. rows.Select(i => status[i])], [.. rows.Select(i => (double)t[i])], [.. rows.Select(i => weights[i])],
                TieMethod.Efron, [.. rows.Select(i => ids[i])]);
            if (double.IsFinite(fit.LogHr) && double.IsFinite(fit.SeRobust))
            {
                hr = new Estimate(fit.Hr, fit.CiLower, fit.CiUpper, fit.PValue);
            }
            else
            {
                note = "the Cox model did not give an estimate";
            }
        }

        return new SubgroupEstimate(subgroup.Name, Count(personsT, "persons-treatment"), Count(personsC, "persons-comparator"),
            Count(eventsT, "events-treatment"), Count(eventsC, "events-comparator"), hr, maxSmd, maxSmd < plan.Diagnostics.MaxAbsSmd, note);
    }

    private static CovariateAggregate Aggregate(CovariateColumns columns, int j, int[] t, Run run)
    {
        var covariate = columns.Refs[j];
        double s1 = 0, s0 = 0;
        long c1 = 0, c0 = 0;
        for (var k = 0; k < columns.Rows[j].Length; k++)
        {
            var v = columns.Values[j][k];
            if (t[columns.Rows[j][k]] == 1)
            {
                s1 += v;
                c1 += v != 0 ? 1 : 0;
            }
            else
            {
                s0 += v;
                c0 += v != 0 ? 1 : 0;
            }
        }

        if (covariate.Binary)
        {
            var key = covariate.Name;
            return new CovariateAggregate(covariate.Name, covariate.Group, run.Shown(c1, "covariate", key, "treatment"), run.Shown(c0, "covariate", key, "comparator"), null, null);
        }

        var n1 = t.Count(x => x == 1);
        var n0 = t.Length - n1;
        return new CovariateAggregate(covariate.Name, covariate.Group, null, null, n1 > 0 ? s1 / n1 : 0, n0 > 0 ? s0 / n0 : 0);
    }

    /// <summary>The informational version of the code that ran (the build stamps the git commit into it).</summary>
    public static string CodeVersion() =>
        typeof(ProtocolRunPipeline).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(ProtocolRunPipeline).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>The versions of the packages a run's numbers depend on.</summary>
    public static IReadOnlyDictionary<string, string> PackageVersions()
    {
        static string Of(Assembly assembly) =>
            assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
            ?? assembly.GetName().Version?.ToString() ?? "unknown";
        return new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["MathNet.Numerics"] = Of(typeof(MathNet.Numerics.Distributions.Normal).Assembly),
            ["Npgsql"] = Of(typeof(Npgsql.NpgsqlConnection).Assembly),
            ["Dapper"] = Of(typeof(SqlMapper).Assembly),
            ["RwePortal.Analytics"] = Of(typeof(CoxModel).Assembly),
            ["dotnet"] = Environment.Version.ToString(),
        };
    }
}
