using C = RwePortal.Warehouse.Vocabulary.ConceptIds;

namespace RwePortal.Warehouse.Synthetic;

/// <summary>
/// One incident condition neither sacubitril/valsartan nor enalapril is thought to cause: a constant hazard per year
/// from the start of observation whose log depends on baseline covariates that also drive the choice of drug (age,
/// kidney disease, activity, prior cost) but never on the drug, so its true hazard ratio is exactly 1.
/// </summary>
/// <param name="ConceptId">Standard OMOP condition concept (from the OHDSI ACE-inhibitor negative-control set).</param>
/// <param name="Name">Concept name as the vocabulary subset holds it.</param>
/// <param name="RatePerYear">Hazard per year for a person with every term at 0 (72 years, no CKD, no wearable, median cost).</param>
/// <param name="Age10">Log hazard per 10 years of age.</param>
/// <param name="Kidney">Log hazard for chronic kidney disease.</param>
/// <param name="Steps2K">Log hazard per 2,000 steps a day above 4,500 (wearers with a baseline only).</param>
/// <param name="Cost">Log hazard per unit of the log prior-year cost (more care, more diagnoses recorded).</param>
/// <param name="Diabetes">Log hazard for type 2 diabetes.</param>
/// <param name="Female">Log hazard for women.</param>
public sealed record NegativeControlCondition(
    int ConceptId, string Name, double RatePerYear, double Age10, double Kidney, double Steps2K, double Cost, double Diabetes, double Female)
{
    /// <summary>The hazard per year of this condition for a person with these baseline covariates.</summary>
    public double HazardPerYear(in BaselineCovariates x, bool male) =>
        RatePerYear * Math.Exp(
            (Age10 * x.Age10)
            + (Kidney * (x.ChronicKidneyDisease ? 1 : 0))
            + (Steps2K * x.Steps2K)
            + (Cost * x.CostZ)
            + (Diabetes * (x.Type2Diabetes ? 1 : 0))
            + (Female * (male ? 0 : 1)));
}

/// <summary>The first record of a negative-control condition for one person (the generator's truth).</summary>
public sealed record NegativeControlOnset(int ConceptId, DateOnly Date);

/// <summary>
/// Incident negative-control conditions of the synthetic population (docs/synthetic-data-model.md, "Negative-control
/// outcomes"). They are drawn from a random stream of their own after every other row of the person exists, so
/// adding them changed no earlier draw: every other row, count and figure of the source is what it was without them.
/// </summary>
public static class NegativeControlConditions
{
    /// <summary>
    /// The person's random stream for these conditions: negative, so it never meets the main stream (0) or the
    /// per-day wearable streams (day numbers, all positive).
    /// </summary>
    public const int Stream = -0x4E43;

    /// <summary>Chance that a condition, once diagnosed, is recorded again at a later encounter (repeat visits).</summary>
    public const double RepeatRecordShare = 0.3;

    /// <summary>
    /// Nine conditions from the OHDSI negative-control set for ACE inhibitors (The Book of OHDSI, appendix "ACEi and
    /// THZ"), none of which a renin-angiotensin drug or neprilysin inhibitor plausibly causes or prevents; their
    /// hazards share confounders with the choice of drug in both directions (older, CKD: more enalapril; active,
    /// costly: more sacubitril/valsartan), so crude comparisons are biased both ways.
    /// </summary>
    public static IReadOnlyList<NegativeControlCondition> All { get; } =
    [
        new(C.IngrowingNail, "Ingrowing nail", 0.030, Age10: -0.10, Kidney: 0.00, Steps2K: 0.35, Cost: 0.10, Diabetes: 0.40, Female: 0.00),
        new(C.ImpactedCerumen, "Impacted cerumen", 0.040, Age10: 0.55, Kidney: 0.00, Steps2K: 0.00, Cost: 0.20, Diabetes: 0.00, Female: -0.20),
        new(C.HerpesZosterWithoutComplication, "Herpes zoster without complication", 0.025, Age10: 0.50, Kidney: 0.45, Steps2K: 0.00, Cost: 0.10, Diabetes: 0.20, Female: 0.25),
        new(C.SprainOfAnkle, "Sprain of ankle", 0.025, Age10: -0.45, Kidney: 0.00, Steps2K: 0.55, Cost: 0.00, Diabetes: 0.00, Female: 0.20),
        new(C.OnychomycosisDueToDermatophyte, "Onychomycosis due to dermatophyte", 0.035, Age10: 0.40, Kidney: 0.30, Steps2K: 0.00, Cost: 0.15, Diabetes: 0.50, Female: -0.15),
        new(C.AcquiredHalluxValgus, "Acquired hallux valgus", 0.020, Age10: 0.35, Kidney: 0.00, Steps2K: 0.25, Cost: 0.00, Diabetes: 0.00, Female: 0.70),
        new(C.CalcanealSpur, "Calcaneal spur", 0.020, Age10: 0.15, Kidney: 0.00, Steps2K: 0.45, Cost: 0.10, Diabetes: 0.20, Female: 0.20),
        new(C.SenileHyperkeratosis, "Senile hyperkeratosis", 0.035, Age10: 0.70, Kidney: 0.20, Steps2K: 0.00, Cost: 0.10, Diabetes: 0.00, Female: 0.00),
        new(C.TearFilmInsufficiency, "Tear film insufficiency", 0.030, Age10: 0.45, Kidney: 0.25, Steps2K: -0.20, Cost: 0.15, Diabetes: 0.15, Female: 0.45),
    ];

    /// <summary>
    /// The person's records of every negative-control condition in [<paramref name="observationStart"/>,
    /// <paramref name="observationEnd"/>): the first onset from the condition's hazard, sometimes a later repeat record.
    /// Depends only on (seed, person id) and the baseline covariates, never on the drug.
    /// </summary>
    public static IReadOnlyList<NegativeControlOnset> Draw(
        long seed, long personId, in BaselineCovariates covariates, bool male, DateOnly observationStart, DateOnly observationEnd)
    {
        var rng = new SyntheticRandom(seed, personId, Stream);
        var records = new List<NegativeControlOnset>();
        foreach (var condition in All)
        {
            // Every condition draws the same number of numbers, so one condition's outcome never shifts another's.
            var years = rng.Exponential(condition.HazardPerYear(covariates, male));
            var repeat = rng.Bernoulli(RepeatRecordShare);
            var repeatDays = rng.Next(30, 366);
            var onset = observationStart.AddDays((int)Math.Min(years * 365.25, 40 * 365.25));
            if (onset >= observationEnd)
            {
                continue;
            }

            records.Add(new NegativeControlOnset(condition.ConceptId, onset));
            if (repeat && onset.AddDays(repeatDays) < observationEnd)
            {
                records.Add(new NegativeControlOnset(condition.ConceptId, onset.AddDays(repeatDays)));
            }
        }

        return records;
    }
}
