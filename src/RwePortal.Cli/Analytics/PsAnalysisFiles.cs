using System.Globalization;
using System.Text;
using System.Text.Json;
using RwePortal.Analytics.Pipeline;
using RwePortal.Analytics.Survival;
using RwePortal.Analytics.Weighting;

namespace RwePortal.Cli.Analytics;

/// <summary>Writes result.json (the field names and nesting of the R fixtures' expected.json, plus extras) and weights.csv.</summary>
internal static class PsAnalysisFiles
{
    public static byte[] ResultJson(PsAnalysisResult r, int n)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("n", n);
            w.WriteString("estimand", r.Estimand.ToString().ToUpperInvariant());
            w.WriteBoolean("stabilized", r.Estimand == Estimand.Ate && r.Adjustment == Adjustment.Weighting);
            w.WriteString("adjustment", r.Adjustment.ToString().ToLowerInvariant());
            if (r.Truncation is { } t)
            {
                w.WriteStartArray("truncate");
                w.WriteNumberValue(t.Low);
                w.WriteNumberValue(t.High);
                w.WriteEndArray();
            }
            else
            {
                w.WriteNull("truncate");
            }

            w.WriteStartObject("counts");
            w.WriteNumber("treated", r.Counts.Treated);
            w.WriteNumber("control", r.Counts.Control);
            w.WriteNumber("events_treated", r.Counts.EventsTreated);
            w.WriteNumber("events_control", r.Counts.EventsControl);
            w.WriteEndObject();

            w.WriteStartObject("propensity");
            w.WriteStartObject("coefficients");
            for (var j = 0; j < r.Propensity.Names.Count; j++)
            {
                Number(w, r.Propensity.Names[j], r.Propensity.Coefficients[j]);
            }

            w.WriteEndObject();
            Number(w, "c_statistic", r.Propensity.CStatistic);
            Number(w, "equipoise", r.Propensity.Equipoise);
            w.WriteEndObject();

            w.WriteStartObject("weights");
            Number(w, "ess_treated", r.Weights.EssTreated);
            Number(w, "ess_control", r.Weights.EssControl);
            Number(w, "min", r.Weights.Min);
            Number(w, "max", r.Weights.Max);
            Number(w, "sum_treated", r.Weights.SumTreated);
            Number(w, "sum_control", r.Weights.SumControl);
            w.WriteEndObject();

            w.WriteStartArray("balance");
            foreach (var b in r.Balance)
            {
                w.WriteStartObject();
                w.WriteString("covariate", b.Covariate);
                Number(w, "smd_before", b.SmdBefore);
                Number(w, "smd_after", b.SmdAfter);
                w.WriteEndObject();
            }

            w.WriteEndArray();

            w.WriteStartObject("km");
            foreach (var (arm, rows) in new[] { ("treated", r.KmTreated), ("control", r.KmControl) })
            {
                w.WriteStartArray(arm);
                foreach (var p in rows)
                {
                    w.WriteStartObject();
                    Number(w, "time", p.Time);
                    Number(w, "survival", p.Survival);
                    Number(w, "lower", p.Lower);
                    Number(w, "upper", p.Upper);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();

            Cox(w, "cox_breslow", r.CoxBreslow);
            Cox(w, "cox_efron", r.CoxEfron);

            w.WriteStartArray("risk");
            foreach (var k in r.Risk)
            {
                w.WriteStartObject();
                Number(w, "horizon", k.Horizon);
                Number(w, "risk_treated", k.RiskTreated);
                Number(w, "risk_control", k.RiskControl);
                Number(w, "risk_difference", k.RiskDifference);
                Number(w, "risk_ratio", k.RiskRatio);
                Number(w, "risk_difference_lower", k.RiskDifferenceLower);
                Number(w, "risk_difference_upper", k.RiskDifferenceUpper);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteBoolean("outcome_common", r.OutcomeCommon);
            w.WriteStartObject("e_value");
            Number(w, "point", r.EValue.Point);
            Number(w, "ci", r.EValue.Ci);
            w.WriteEndObject();

            w.WriteStartArray("numbers_at_risk");
            foreach (var row in r.RiskTable)
            {
                w.WriteStartObject();
                Number(w, "time", row.Time);
                w.WriteNumber("treated", row.Treated);
                w.WriteNumber("control", row.Control);
                Number(w, "weighted_treated", row.WeightedTreated);
                Number(w, "weighted_control", row.WeightedControl);
                w.WriteEndObject();
            }

            w.WriteEndArray();

            w.WriteStartObject("diagnostics");
            Number(w, "max_abs_smd_after", r.Diagnostics.MaxAbsSmdAfter);
            w.WriteBoolean("balance_passed", r.Diagnostics.BalancePassed);
            Number(w, "equipoise", r.Diagnostics.Equipoise);
            w.WriteBoolean("equipoise_passed", r.Diagnostics.EquipoisePassed);
            w.WriteBoolean("passed", r.Diagnostics.Passed);
            w.WriteStartArray("imbalanced_covariates");
            foreach (var c in r.Diagnostics.ImbalancedCovariates)
            {
                w.WriteStringValue(c);
            }

            w.WriteEndArray();
            w.WriteEndObject();
            if (r.Adjustment == Adjustment.Matching)
            {
                w.WriteNumber("matched_pairs", r.MatchedPairs);
            }

            w.WriteStartObject("km_curves");
            Curve(w, "treated", r.CurveTreated);
            Curve(w, "control", r.CurveControl);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return stream.ToArray();
    }

    public static byte[] WeightsCsv(Cohort cohort, PsAnalysisResult r)
    {
        var sb = new StringBuilder(cohort.Count * 48);
        sb.Append("person_id,ps,weight\n");
        for (var i = 0; i < cohort.Count; i++)
        {
            sb.Append(cohort.PersonIds[i].ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append(r.PropensityScores[i].ToString("R", CultureInfo.InvariantCulture)).Append(',')
                .Append(r.PersonWeights[i].ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private static void Cox(Utf8JsonWriter w, string name, CoxFit fit)
    {
        w.WriteStartObject(name);
        Number(w, "hr", fit.Hr);
        Number(w, "log_hr", fit.LogHr);
        Number(w, "se_robust", fit.SeRobust);
        Number(w, "ci_lower", fit.CiLower);
        Number(w, "ci_upper", fit.CiUpper);
        Number(w, "p_value", fit.PValue);
        Number(w, "se_naive", fit.SeNaive);
        w.WriteEndObject();
    }

    private static void Curve(Utf8JsonWriter w, string name, KmCurve curve)
    {
        w.WriteStartArray(name);
        foreach (var p in curve.Points)
        {
            w.WriteStartObject();
            Number(w, "time", p.Time);
            Number(w, "n_risk", p.AtRisk);
            Number(w, "n_event", p.Events);
            Number(w, "survival", p.Survival);
            Number(w, "std_err_log", p.StdErrLog);
            Number(w, "lower", p.Lower);
            Number(w, "upper", p.Upper);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static void Number(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value))
        {
            w.WriteNumber(name, value);
        }
        else
        {
            w.WriteNull(name);
        }
    }
}
