using System.Globalization;
using System.Text.Json;
using FluentValidation;
using MediatR;
using RwePortal.Application.Analyses;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Jobs;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Analyses;

/// <summary>
/// A succeeded run's aggregates as a file: "json" (the run, its reproducibility record and the result document) or "csv"
/// (one file, one value a line, with a section column; text a spreadsheet would run as a formula is escaped). Every count
/// is the one the result document shows (through the tenant's small-cell policy, hidden counts empty); the export is on
/// the audit trail.
/// </summary>
public static class ExportAnalysisRun
{
    public static IReadOnlyList<string> Formats { get; } = ["json", "csv"];

    [RequiresPermission(Permission.ViewAnalyses)]
    public sealed record Query(Guid RunId, string Format) : IRequest<Result<File>>;

    public sealed record File(string FileName, string ContentType, byte[] Content);

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.RunId).NotEmpty();
            RuleFor(q => q.Format).Must(f => Formats.Contains(f, StringComparer.Ordinal)).WithMessage("Format is json or csv.");
        }
    }

    internal sealed class Handler(TenantDbContextFactory contexts, IAuditTrail audit) : IRequestHandler<Query, Result<File>>
    {
        public async Task<Result<File>> Handle(Query request, CancellationToken cancellationToken)
        {
            await using var db = await contexts.CreateAsync(cancellationToken);
            var run = await AnalysisRunStore.FindAsync(db, request.RunId, cancellationToken);
            if (run is null)
            {
                return AnalysisRunErrors.NotFound();
            }

            var result = AnalysisRunJson.Result(run.Result);
            if (run.Status != AnalysisRunStatus.Succeeded || result is null)
            {
                return AnalysisRunErrors.NoResult(run.Status);
            }

            var name = $"analysis-{run.Id:N}"[..17] + $"-v{run.ProtocolVersion}";
            var file = request.Format == "json"
                ? new File(name + ".json", "application/json", Json(run, result))
                : new File(name + ".csv", "text/csv", Csv(run, result));
            await audit.RecordAsync(
                new AuditRecord(AuditEventTypes.Export, $"{nameof(ExportAnalysisRun)}: run {run.Id}", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["format"] = request.Format,
                    ["protocol"] = run.ProtocolId,
                    ["version"] = run.ProtocolVersion,
                    ["source"] = run.Source,
                    ["bytes"] = file.Content.Length,
                }),
                cancellationToken);
            return file;
        }
    }

    private static readonly JsonSerializerOptions Indented = new(AnalysisRunJson.Options) { WriteIndented = true };

    internal static byte[] Json(AnalysisRunRow run, AnalysisResultDocument result) => JsonSerializer.SerializeToUtf8Bytes(
        new
        {
            run = new
            {
                id = run.Id,
                protocolId = run.ProtocolId,
                protocolTitle = run.ProtocolTitle,
                protocolVersion = run.ProtocolVersion,
                source = run.Source,
                purpose = run.Purpose,
                attempt = run.Attempt,
                createdAt = AnalysisRunRow.Utc(run.CreatedAt),
                finishedAt = AnalysisRunRow.Utc(run.FinishedAt),
            },
            reproducibility = run.ReproducibilityRecord(),
            result,
        },
        Indented);

    /// <summary>Long format: section, group, item, arm, measure, value (a number), shown (a count as shown, e.g. "&lt;11").</summary>
    internal static byte[] Csv(AnalysisRunRow run, AnalysisResultDocument r)
    {
        var lines = new List<object?[]>();
        void Add(string section, string? group, string? item, string? arm, string measure, double? value, string? shown = null) =>
            lines.Add([section, group, item, arm, measure, value, shown]);
        void Count(string section, string? group, string? item, string? arm, string measure, Shown? count) =>
            Add(section, group, item, arm, measure, count?.Value, count?.Display);
        void Est(string section, string? group, string? item, string measure, Estimate? e)
        {
            if (e is null)
            {
                return;
            }

            Add(section, group, item, null, measure, e.Value);
            Add(section, group, item, null, measure + "_lower", e.Lower);
            Add(section, group, item, null, measure + "_upper", e.Upper);
            if (e.P is { } p)
            {
                Add(section, group, item, null, measure + "_p", p);
            }
        }

        var rep = run.ReproducibilityRecord();
        lines.Add(["run", null, "protocol", null, "title", null, run.ProtocolTitle]);
        Add("run", null, "protocol", null, "version", run.ProtocolVersion);
        lines.Add(["run", null, "protocol", null, "content_hash", null, rep.ProtocolHash]);
        lines.Add(["run", null, "source", null, "name", null, rep.Source]);
        lines.Add(["run", null, "source", null, "loaded_at", null, rep.SourceLoadedAt?.ToString("O", CultureInfo.InvariantCulture)]);
        lines.Add(["run", null, "consent", null, "as_of", null, rep.ConsentAsOf?.ToString("O", CultureInfo.InvariantCulture)]);
        Count("run", null, "consent", null, "removed", rep.RemovedByConsent);
        lines.Add(["run", null, "code", null, "version", null, rep.CodeVersion]);
        Add("run", null, "seed", null, "value", rep.Seed);
        foreach (var step in r.Attrition)
        {
            Count("attrition", null, step.Step, "treatment", "persons", step.Treatment);
            Count("attrition", null, step.Step, "comparator", "persons", step.Comparator);
        }

        Count("arms", null, "persons", "treatment", "count", r.Arms.PersonsTreatment);
        Count("arms", null, "persons", "comparator", "count", r.Arms.PersonsComparator);
        Count("arms", null, "events", "treatment", "count", r.Arms.EventsTreatment);
        Count("arms", null, "events", "comparator", "count", r.Arms.EventsComparator);
        Add("arms", null, "person_years", "treatment", "value", r.Arms.PersonYearsTreatment);
        Add("arms", null, "person_years", "comparator", "value", r.Arms.PersonYearsComparator);
        Add("arms", null, "effective_sample_size", "treatment", "value", r.Arms.EffectiveSampleSizeTreatment);
        Add("arms", null, "effective_sample_size", "comparator", "value", r.Arms.EffectiveSampleSizeComparator);
        Add("preference_score", null, "c_statistic", null, "value", r.PreferenceScore.CStatistic);
        for (var i = 0; i < r.PreferenceScore.BinCentres.Count; i++)
        {
            var bin = r.PreferenceScore.BinCentres[i].ToString("R", CultureInfo.InvariantCulture);
            Add("preference_score", null, bin, "treatment", "density", r.PreferenceScore.DensityTreatment[i]);
            Add("preference_score", null, bin, "comparator", "density", r.PreferenceScore.DensityComparator[i]);
        }

        foreach (var b in r.Balance)
        {
            Add("balance", b.Group, b.Covariate, "treatment", "mean_before", b.MeanTreatmentBefore);
            Add("balance", b.Group, b.Covariate, "comparator", "mean_before", b.MeanComparatorBefore);
            Add("balance", b.Group, b.Covariate, null, "smd_before", b.SmdBefore);
            Add("balance", b.Group, b.Covariate, "treatment", "mean_after", b.MeanTreatmentAfter);
            Add("balance", b.Group, b.Covariate, "comparator", "mean_after", b.MeanComparatorAfter);
            Add("balance", b.Group, b.Covariate, null, "smd_after", b.SmdAfter);
        }

        foreach (var g in r.Diagnostics.Gates)
        {
            Add("diagnostics", null, g.Name, null, "value", g.Value);
            Add("diagnostics", null, g.Name, null, "threshold", g.Threshold);
            lines.Add(["diagnostics", null, g.Name, null, "passed", null, g.Passed ? "pass" : "fail"]);
        }

        foreach (var removed in r.Diagnostics.RemovedCovariates)
        {
            lines.Add(["diagnostics", "removed_covariate", removed.Covariate, null, "reason", null, removed.Reason]);
        }

        foreach (var curve in r.Curves)
        {
            for (var i = 0; i < curve.Time.Count; i++)
            {
                var t = curve.Time[i].ToString("R", CultureInfo.InvariantCulture);
                Add("curves", curve.Kind, t, curve.Arm, "estimate", curve.Estimate[i]);
                Add("curves", curve.Kind, t, curve.Arm, "lower", curve.Lower[i]);
                Add("curves", curve.Kind, t, curve.Arm, "upper", curve.Upper[i]);
            }
        }

        foreach (var risk in r.NumbersAtRisk)
        {
            var t = risk.Time.ToString("R", CultureInfo.InvariantCulture);
            Count("numbers_at_risk", null, t, "treatment", "persons", risk.Treatment);
            Count("numbers_at_risk", null, t, "comparator", "persons", risk.Comparator);
            Add("numbers_at_risk", null, t, "treatment", "weighted", risk.WeightedTreatment);
            Add("numbers_at_risk", null, t, "comparator", "weighted", risk.WeightedComparator);
        }

        Est("estimates", null, "hazard_ratio", "adjusted", r.Estimates.HazardRatio);
        Est("estimates", null, "hazard_ratio", "unadjusted", r.Estimates.UnadjustedHazardRatio);
        Est("estimates", null, "hazard_ratio", "calibrated", r.Estimates.CalibratedHazardRatio);
        Add("estimates", null, "e_value", null, "estimate", r.Estimates.EValue);
        Add("estimates", null, "e_value", null, "limit", r.Estimates.EValueLimit);
        foreach (var h in r.Estimates.Horizons)
        {
            var days = h.Days.ToString(CultureInfo.InvariantCulture);
            Add("horizons", days, "risk", "treatment", "value", h.RiskTreatment);
            Add("horizons", days, "risk", "comparator", "value", h.RiskComparator);
            Est("horizons", days, "risk_difference", "estimate", h.RiskDifference);
            Est("horizons", days, "risk_ratio", "estimate", h.RiskRatio);
        }

        foreach (var nc in r.NegativeControls)
        {
            var id = nc.ConceptId.ToString(CultureInfo.InvariantCulture);
            lines.Add(["negative_controls", id, nc.Name, null, "name", null, nc.Name]);
            Count("negative_controls", id, nc.Name, null, "events", nc.Events);
            Est("negative_controls", id, nc.Name, "hazard_ratio", nc.HazardRatio);
        }

        foreach (var s in r.Subgroups)
        {
            Count("subgroups", null, s.Name, "treatment", "persons", s.PersonsTreatment);
            Count("subgroups", null, s.Name, "comparator", "persons", s.PersonsComparator);
            Count("subgroups", null, s.Name, "treatment", "events", s.EventsTreatment);
            Count("subgroups", null, s.Name, "comparator", "events", s.EventsComparator);
            Est("subgroups", null, s.Name, "hazard_ratio", s.HazardRatio);
            Add("subgroups", null, s.Name, null, "max_abs_smd_after", s.MaxAbsSmdAfter);
            lines.Add(["subgroups", null, s.Name, null, "balance", null, s.BalancePassed ? "pass" : "fail"]);
        }

        foreach (var c in r.Covariates)
        {
            Count("covariates", c.Group, c.Covariate, "treatment", "count", c.CountTreatment);
            Count("covariates", c.Group, c.Covariate, "comparator", "count", c.CountComparator);
            Add("covariates", c.Group, c.Covariate, "treatment", "mean", c.MeanTreatment);
            Add("covariates", c.Group, c.Covariate, "comparator", "mean", c.MeanComparator);
        }

        return CsvFiles.Write(["section", "group", "item", "arm", "measure", "value", "shown"], lines.Where(l => l[5] is not null || l[6] is not null));
    }
}
