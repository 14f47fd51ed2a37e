using System.Globalization;

namespace RwePortal.Web.Features.Subgroups;

/// <summary>A criterion in words, for the read-only view of a definition ("every criterion, as it will run").</summary>
public static class CriterionText
{
    public static string Describe(CriterionDraft c, bool isIndex = false)
    {
        var parts = new List<string>();
        switch (c.Kind)
        {
            case "all":
                return "All of the following";
            case "any":
                return "Any of the following";
            case "not":
                return "None of the following";
            case "age":
                parts.Add($"Age at index {Bounds(c.AgeMin, c.AgeMax)} years");
                break;
            case "sex" or "race" or "ethnicity":
                parts.Add($"{c.Info.Title}: {string.Join(", ", c.Concepts.Select(Concept))}");
                break;
            case "variant":
                var fields = new List<string>();
                if (c.Gene is { Length: > 0 })
                {
                    fields.Add($"gene {c.Gene}");
                }

                Add(fields, "HGVS c.", c.HgvsC);
                Add(fields, "HGVS p.", c.HgvsP);
                Add(fields, "rsID", c.Rsids);
                Add(fields, "zygosity", c.Zygosity);
                Add(fields, "significance", c.Significance.Select(s => s.Replace('_', ' ')).ToList());
                parts.Add($"Genomic variant: {string.Join("; ", fields)}");
                parts.Add(Window(c.Window, "sampled"));
                parts.Add(Count(c));
                break;
            case "genomicScore":
                parts.Add($"Polygenic score {c.ScoreId}" + (c.Percentile.IsEmpty ? "" : $", percentile {c.Percentile.Describe()}") + (c.Value.IsEmpty ? "" : $", value {c.Value.Describe()}"));
                parts.Add(Window(c.Window, "measured"));
                break;
            case "wearable":
                var metric = CriterionKind.WearableMetrics.FirstOrDefault(m => m.Key == c.Metric).Name ?? c.Metric;
                parts.Add($"Wearable: mean {metric}" + (c.Mean.IsEmpty ? "" : $" {c.Mean.Describe()}") + $" over worn days, at least {c.MinDaysWorn ?? 1} days worn");
                parts.Add(Window(c.Window, "over"));
                if (c.HasBaseline)
                {
                    parts.Add($"change from baseline ({c.BaselineWindow.Describe()}) {c.ChangePercent.Describe()} %");
                }

                break;
            case "enrollment":
                parts.Add($"Continuously enrolled, gaps of at most {c.AllowedGapDays ?? 0} days");
                parts.Add(Window(c.Window, "over"));
                break;
            case "subgroup":
                parts.Add($"Member of the saved subgroup {c.SubgroupId}");
                break;
            case "adherence":
                parts.Add($"Adherence (PDC) {c.Pdc.Describe()} to {string.Join(", ", c.Concepts.Select(Concept))}");
                parts.Add(Window(c.Window, "over"));
                break;
            default:
                parts.Add($"{c.Info.Title}: {string.Join(", ", c.Concepts.Select(Concept))}");
                if (c.Info.TakesValue && !c.Value.IsEmpty)
                {
                    parts.Add($"value {c.Value.Describe()}");
                }

                if (c.VisitTypes.Count > 0)
                {
                    parts.Add("during a visit of type " + string.Join(", ", c.VisitTypes.Select(id => CriterionKind.VisitTypes.FirstOrDefault(v => v.Id == id).Name ?? id.ToString(CultureInfo.InvariantCulture))));
                }

                parts.Add(isIndex ? (c.Occurrence == "last" ? "last occurrence" : "first occurrence") : c.Occurrence switch
                {
                    "first" => "first occurrence in history",
                    "last" => "last occurrence in history",
                    _ => Count(c),
                });
                parts.Add(Window(c.Window, "when"));
                break;
        }

        return string.Join(" · ", parts.Where(p => p.Length > 0));
    }

    private static string Concept(ConceptPick c) => c.ConceptSet is not null ? $"concept set {c.ConceptSet}" :
        $"{c.Name ?? "concept"} ({c.Id.ToString(CultureInfo.InvariantCulture)}{(c.Descendants ? ", with descendants" : "")}{(c.Exclude ? ", excluded" : "")})";

    private static void Add(List<string> fields, string name, List<string> values)
    {
        if (values.Count > 0)
        {
            fields.Add($"{name} {string.Join(" or ", values)}");
        }
    }

    private static string Window(WindowDraft window, string what) => window.Mode == WindowMode.AnyTime ? "" : $"{what} {window.Describe()}";

    private static string Count(CriterionDraft c) =>
        c.CountMin is null && c.CountMax is null ? "at least once" : $"{Bounds(c.CountMin ?? 1, c.CountMax)} times";

    private static string Bounds(int? min, int? max) => (min, max) switch
    {
        (not null, not null) => $"{min} to {max}",
        (not null, null) => $"at least {min}",
        (null, not null) => $"at most {max}",
        _ => "any",
    };
}
