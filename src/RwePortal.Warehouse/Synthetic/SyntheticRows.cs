namespace RwePortal.Warehouse.Synthetic;

// One value type per target table, holding the columns the generator fills (the rest stay NULL).

public readonly record struct PersonRow(
    long PersonId, int GenderConceptId, int YearOfBirth, int MonthOfBirth, int DayOfBirth, DateTime BirthDatetime,
    int RaceConceptId, int EthnicityConceptId, string PersonSourceValue, string GenderSourceValue);

public readonly record struct ObservationPeriodRow(long ObservationPeriodId, long PersonId, DateOnly Start, DateOnly End, int TypeConceptId);

public readonly record struct VisitRow(
    long VisitOccurrenceId, long PersonId, int VisitConceptId, DateOnly Start, DateOnly End, int TypeConceptId, string SourceValue);

public readonly record struct ConditionRow(
    long ConditionOccurrenceId, long PersonId, int ConceptId, DateOnly Start, DateOnly? End, int TypeConceptId, long? VisitOccurrenceId);

public readonly record struct DrugRow(
    long DrugExposureId, long PersonId, int ConceptId, DateOnly Start, DateOnly End, int TypeConceptId,
    int Refills, double Quantity, int DaysSupply, long? VisitOccurrenceId);

public readonly record struct MeasurementRow(
    long MeasurementId, long PersonId, int ConceptId, DateOnly Date, int TypeConceptId, double Value,
    int UnitConceptId, double? RangeLow, double? RangeHigh, long? VisitOccurrenceId);

public readonly record struct ObservationRow(
    long ObservationId, long PersonId, int ConceptId, DateOnly Date, int TypeConceptId, double Value, int UnitConceptId);

public readonly record struct DeathRow(long PersonId, DateOnly Date, int TypeConceptId, int CauseConceptId);

public readonly record struct PayerPlanPeriodRow(
    long PayerPlanPeriodId, long PersonId, DateOnly Start, DateOnly End, int PayerConceptId, string PayerSourceValue, string PlanSourceValue);

public readonly record struct CostRow(
    long CostId, long CostEventId, string CostDomainId, int CostTypeConceptId, double TotalCharge, double TotalCost,
    double TotalPaid, double PaidByPayer, double PaidByPatient, long? PayerPlanPeriodId, int? DrgConceptId, string? DrgSourceValue);

public readonly record struct VariantRow(
    long VariantOccurrenceId, long PersonId, DateOnly SampleDate, string GeneSymbol, string HgvsC, string HgvsP, string? Rsid,
    string Chromosome, long Position, string ReferenceAllele, string AlternateAllele, string Zygosity,
    string ClinicalSignificance, string VariantSourceValue);

public readonly record struct GenomicScoreRow(
    long GenomicScoreId, long PersonId, string ScoreId, string ScoreName, double Value, double Percentile, DateOnly MeasuredDate);

public readonly record struct WearableDailyRow(
    long PersonId, DateOnly Date, string Device, int Steps, double RestingHr, double HrvRmssd, int SleepMinutes, int WearMinutes);

public readonly record struct WearableHourlyRow(long PersonId, DateTime Hour, string Device, double MeanHr, int Steps);

public readonly record struct ConsentRow(
    long PersonId, string Purpose, string Status, DateOnly EffectiveFrom, DateOnly? EffectiveTo, DateTime RecordedAt, string? Reason);

/// <summary>Rows of a contiguous run of persons, per table, in person order.</summary>
public sealed class SyntheticBatch
{
    public List<PersonRow> Persons { get; } = [];
    public List<ObservationPeriodRow> ObservationPeriods { get; } = [];
    public List<VisitRow> Visits { get; } = [];
    public List<ConditionRow> Conditions { get; } = [];
    public List<DrugRow> Drugs { get; } = [];
    public List<MeasurementRow> Measurements { get; } = [];
    public List<ObservationRow> Observations { get; } = [];
    public List<DeathRow> Deaths { get; } = [];
    public List<PayerPlanPeriodRow> PayerPlanPeriods { get; } = [];
    public List<CostRow> Costs { get; } = [];
    public List<VariantRow> Variants { get; } = [];
    public List<GenomicScoreRow> GenomicScores { get; } = [];
    public List<WearableDailyRow> WearableDaily { get; } = [];
    public List<WearableHourlyRow> WearableHourly { get; } = [];
    public List<ConsentRow> Consents { get; } = [];

    /// <summary>The model's hidden truth per person (not written to the warehouse; used by tests and reports).</summary>
    public List<PersonTruth> Truths { get; } = [];

    public long RowCount =>
        Persons.Count + ObservationPeriods.Count + Visits.Count + Conditions.Count + Drugs.Count + Measurements.Count
        + Observations.Count + Deaths.Count + PayerPlanPeriods.Count + Costs.Count + Variants.Count + GenomicScores.Count
        + WearableDaily.Count + WearableHourly.Count + Consents.Count;
}
