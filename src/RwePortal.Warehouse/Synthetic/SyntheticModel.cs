namespace RwePortal.Warehouse.Synthetic;

/// <summary>Which strategy a person follows at the index date.</summary>
public enum TreatmentArm
{
    /// <summary>No renin-angiotensin treatment in the data.</summary>
    None = 0,

    /// <summary>New user of sacubitril/valsartan (the treatment of interest).</summary>
    SacubitrilValsartan = 1,

    /// <summary>New user of enalapril (the comparator).</summary>
    Enalapril = 2,

    /// <summary>Enalapril started before heart-failure diagnosis: a prevalent user, not a new user.</summary>
    PrevalentEnalapril = 3,
}

/// <summary>
/// Baseline covariates as an analyst would compute them from the person's rows before the index date, on the scale
/// the model uses (see docs/synthetic-data-model.md).
/// </summary>
public readonly record struct BaselineCovariates(
    double AgeYears,
    bool ChronicKidneyDisease,
    double Egfr,
    double Lvef,
    bool HasWearableBaseline,
    double MeanDailySteps,
    bool TtrV142IKnownCarrier,
    double PriorYearPaid,
    bool Type2Diabetes,
    bool AtrialFibrillation)
{
    public double Age10 => (AgeYears - 72) / 10;

    public double Egfr15 => (Egfr - 60) / 15;

    public double Lvef10 => (Lvef - 35) / 10;

    /// <summary>Mean daily steps in the 30 days before index, centred and scaled; 0 without a wearable baseline.</summary>
    public double Steps2K => HasWearableBaseline ? (MeanDailySteps - 4500) / 2000 : 0;

    public double CostZ => Math.Log(1 + PriorYearPaid) - 8.5;
}

/// <summary>The hidden truth of one person (kept out of the warehouse; used by tests and the generator's report).</summary>
public sealed record PersonTruth(
    long PersonId,
    TreatmentArm Arm,
    DateOnly? IndexDate,
    BaselineCovariates Covariates,
    bool TtrV142ICarrier,
    double PropensityOfSacubitrilValsartan,
    double LinearPredictorWithoutTreatment,
    double UnitExponentialDraw,
    DateOnly FollowUpEnd,
    DateOnly? FirstHeartFailureHospitalisation)
{
    /// <summary>Every record of a negative-control condition the person has, first onsets and repeats, in observation.</summary>
    public IReadOnlyList<NegativeControlOnset> NegativeControlRecords { get; init; } = [];
}

/// <summary>
/// The documented parameters of the synthetic heart-failure population: treatment assignment (confounded through
/// every modality) and the outcome hazard with a known treatment effect. docs/synthetic-data-model.md explains them.
/// </summary>
public static class SyntheticModel
{
    /// <summary>True conditional hazard ratio of sacubitril/valsartan vs enalapril for the first HF hospitalisation.</summary>
    public const double TrueHazardRatio = 0.75;

    public const double WeibullShape = 0.9;

    /// <summary>Baseline Weibull rate per year (linear predictor 0): about 18 % HF hospitalisation in the first year.</summary>
    public const double WeibullRatePerYear = 0.20;

    public const double DeathRatePerYear = 0.06;

    public static readonly DateOnly DataStart = new(2018, 1, 1);
    public static readonly DateOnly DataEnd = new(2025, 12, 31);

    /// <summary>Logit of P(sacubitril/valsartan | new user, covariates).</summary>
    public static double TreatmentLogit(in BaselineCovariates x) =>
        0.25
        - (0.40 * x.Age10)
        - (0.50 * (x.ChronicKidneyDisease ? 1 : 0))
        + (0.35 * x.Egfr15)
        - (0.35 * x.Lvef10)
        + (0.40 * x.Steps2K)
        + (0.30 * (x.HasWearableBaseline ? 1 : 0))
        + (0.90 * (x.TtrV142IKnownCarrier ? 1 : 0))
        + (0.30 * x.CostZ);

    /// <summary>Outcome linear predictor without the treatment term; <paramref name="ttrCarrier"/> is the biological status.</summary>
    public static double OutcomeLinearPredictor(in BaselineCovariates x, bool ttrCarrier) =>
        (0.40 * x.Age10)
        + (0.45 * (x.ChronicKidneyDisease ? 1 : 0))
        - (0.30 * x.Egfr15)
        - (0.30 * x.Lvef10)
        - (0.35 * x.Steps2K)
        + (0.60 * (ttrCarrier ? 1 : 0))
        + (0.15 * x.CostZ)
        + (0.25 * (x.Type2Diabetes ? 1 : 0))
        + (0.20 * (x.AtrialFibrillation ? 1 : 0));

    /// <summary>Death hazard's linear predictor (no treatment effect): death censors the HF outcome.</summary>
    public static double DeathLinearPredictor(in BaselineCovariates x, bool copd) =>
        (0.55 * x.Age10)
        + (0.35 * (x.ChronicKidneyDisease ? 1 : 0))
        - (0.25 * x.Lvef10)
        + (0.30 * (copd ? 1 : 0));

    /// <summary>Time in years to the first HF hospitalisation for a unit-exponential draw e (inverse of the Weibull cumulative hazard).</summary>
    public static double EventTimeYears(double unitExponential, double linearPredictor, bool treated)
    {
        var rate = WeibullRatePerYear * Math.Exp(linearPredictor + (treated ? Math.Log(TrueHazardRatio) : 0));
        return Math.Pow(unitExponential / rate, 1 / WeibullShape);
    }

    public static double Logistic(double x) => 1 / (1 + Math.Exp(-x));
}
