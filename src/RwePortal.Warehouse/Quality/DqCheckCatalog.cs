using RwePortal.Warehouse.Schema;

namespace RwePortal.Warehouse.Quality;

/// <summary>
/// The data-quality checks, built as data from the CDM specification (keys, required fields, concept fields,
/// dates) plus hand-written plausibility ranges and cross-modality consistency checks. Thresholds and their
/// reasons: docs/data-quality.md and docs/decisions/0205-data-quality-thresholds.md.
/// </summary>
public static class DqCheckCatalog
{
    private const string S = SqlResources.SchemaPlaceholder;

    /// <summary>Person-level event tables with the date that places an event in time.</summary>
    private static readonly (string Table, string Date)[] EventDates =
    [
        ("visit_occurrence", "visit_start_date"),
        ("visit_detail", "visit_detail_start_date"),
        ("condition_occurrence", "condition_start_date"),
        ("drug_exposure", "drug_exposure_start_date"),
        ("procedure_occurrence", "procedure_date"),
        ("device_exposure", "device_exposure_start_date"),
        ("measurement", "measurement_date"),
        ("observation", "observation_date"),
        ("note", "note_date"),
        ("specimen", "specimen_date"),
    ];

    private static readonly int[] GenderConcepts = [8507, 8532, 8551, 8570, 8521, 0];

    private static readonly Dictionary<(string Table, string Field), string> ExpectedDomains = new()
    {
        [("person", "gender_concept_id")] = "Gender",
        [("person", "race_concept_id")] = "Race",
        [("person", "ethnicity_concept_id")] = "Ethnicity",
        [("visit_occurrence", "visit_concept_id")] = "Visit",
        [("condition_occurrence", "condition_concept_id")] = "Condition",
        [("drug_exposure", "drug_concept_id")] = "Drug",
        [("procedure_occurrence", "procedure_concept_id")] = "Procedure",
        [("device_exposure", "device_concept_id")] = "Device",
        [("measurement", "measurement_concept_id")] = "Measurement",
        [("observation", "observation_concept_id")] = "Observation",
    };

    /// <summary>Plausible value ranges of common measurements, found by standard concept id or LOINC code.</summary>
    public static IReadOnlyList<MeasurementRange> MeasurementRanges { get; } =
    [
        new("lvef", "LVEF (%)", [], ["10230-1", "8806-2", "18043-0", "8808-8", "8810-4"], 5, 90),
        new("hba1c", "HbA1c (%)", [3004410], ["4548-4", "17856-6", "59261-8"], 3, 20),
        new("egfr", "eGFR (mL/min/1.73 m²)", [], ["33914-3", "48642-3", "48643-1", "50044-7", "62238-1", "69405-9", "88293-6", "88294-4", "98979-8", "98980-6"], 1, 200),
        new("bmi", "BMI (kg/m²)", [3038553], ["39156-5"], 10, 80),
        new("nt_probnp", "NT-proBNP (pg/mL)", [], ["33762-6", "71425-3"], 0, 70000),
        new("systolic_bp", "systolic blood pressure (mmHg)", [3004249], ["8480-6"], 50, 300),
        new("heart_rate", "heart rate (/min)", [3027018], ["8867-4"], 20, 250),
        new("body_weight", "body weight (kg)", [3025315], ["29463-7"], 0.3, 400),
    ];

    public static IReadOnlyList<DqCheck> Build(CdmSpecification specification)
    {
        var checks = new List<DqCheck>();
        var clinical = specification.Tables.Where(t => !t.IsVocabulary).ToList();
        var personTables = clinical.Where(t => t.IsPersonLevel).Select(t => t.Name).Concat(CdmSchema.ExtensionTables).ToList();

        AddConformance(checks, specification, clinical);
        AddCompleteness(checks, specification);
        AddPlausibility(checks, clinical);
        AddConsistency(checks, personTables);
        return checks;
    }

    private static void AddConformance(List<DqCheck> checks, CdmSpecification specification, List<CdmTable> clinical)
    {
        foreach (var table in specification.Tables)
        {
            var key = table.Fields.Where(f => f.IsPrimaryKey).Select(f => CdmDdlGenerator.Identifier(f.Name)).ToList();
            if (key.Count == 1)
            {
                checks.Add(new DqCheck(
                    $"conformance.primary_key_unique.{table.Name}",
                    DqCategory.Conformance,
                    table.Name,
                    key[0],
                    $"{table.Name}.{key[0]} is unique (rows beyond the first with the same id)",
                    $"SELECT count(*) - count(DISTINCT {key[0]}), count(*) FROM {S}.{table.Name}",
                    FailAbovePercent: 0));
            }
        }

        foreach (var table in clinical)
        {
            foreach (var field in table.Fields.Where(f => f.ForeignKeyTable == "concept"))
            {
                var name = CdmDdlGenerator.Identifier(field.Name);
                var isSource = field.Name.EndsWith("_source_concept_id", StringComparison.Ordinal);
                checks.Add(new DqCheck(
                    $"conformance.concept_exists.{table.Name}.{field.Name}",
                    DqCategory.Conformance,
                    table.Name,
                    field.Name,
                    $"{table.Name}.{field.Name} is a concept of the vocabulary (0 = no matching concept is allowed)",
                    $"""
                    SELECT count(*) FILTER (WHERE c.concept_id IS NULL), count(*)
                    FROM {S}.{table.Name} t LEFT JOIN {S}.concept c ON c.concept_id = t.{name}
                    WHERE t.{name} IS NOT NULL AND t.{name} <> 0
                    """,
                    // Source vocabularies are often not shipped with an export: unknown source concepts only warn.
                    FailAbovePercent: isSource ? 100 : 0,
                    WarnAbovePercent: 0,
                    RequiresVocabulary: true));
            }
        }

        foreach (var ((table, field), domain) in ExpectedDomains)
        {
            checks.Add(new DqCheck(
                $"conformance.concept_domain.{table}.{field}",
                DqCategory.Conformance,
                table,
                field,
                $"{table}.{field} is a concept of domain {domain}",
                $"""
                SELECT count(*) FILTER (WHERE c.domain_id <> @domain), count(*)
                FROM {S}.{table} t JOIN {S}.concept c ON c.concept_id = t.{field}
                WHERE t.{field} <> 0
                """,
                FailAbovePercent: 0,
                Parameters: new { domain },
                RequiresVocabulary: true));
        }

        checks.Add(new DqCheck(
            "conformance.allowed_values.person.gender_concept_id",
            DqCategory.Conformance,
            "person",
            "gender_concept_id",
            "person.gender_concept_id is one of the OMOP gender concepts (8507 male, 8532 female, 8551 unknown, 8570 ambiguous, 8521 other, 0)",
            $"SELECT count(*) FILTER (WHERE NOT (gender_concept_id = ANY(@allowed))), count(*) FROM {S}.person",
            FailAbovePercent: 0,
            Parameters: new { allowed = GenderConcepts }));

        foreach (var table in clinical.Where(t => t.IsPersonLevel))
        {
            var dates = table.Fields.Where(f => f.PostgresType is "date" or "timestamp").Select(f => f.Name).ToList();
            if (dates.Count == 0)
            {
                continue;
            }

            checks.Add(new DqCheck(
                $"conformance.date_not_in_future.{table.Name}",
                DqCategory.Conformance,
                table.Name,
                string.Join(", ", dates),
                $"{table.Name} dates are not in the future",
                $"SELECT count(*) FILTER (WHERE {string.Join(" OR ", dates.Select(d => $"{d} > localtimestamp"))}), count(*) FROM {S}.{table.Name}",
                FailAbovePercent: 0));
        }
    }

    private static void AddCompleteness(List<DqCheck> checks, CdmSpecification specification)
    {
        foreach (var table in specification.Tables)
        {
            var required = table.Fields.Where(f => f.IsRequired).Select(f => CdmDdlGenerator.Identifier(f.Name)).ToList();
            if (required.Count == 0)
            {
                continue;
            }

            checks.Add(new DqCheck(
                $"completeness.required_fields.{table.Name}",
                DqCategory.Completeness,
                table.Name,
                null,
                $"{table.Name}: the {required.Count} required fields are not null",
                $"SELECT count(*) FILTER (WHERE {string.Join(" OR ", required.Select(f => $"{f} IS NULL"))}), count(*) FROM {S}.{table.Name}",
                FailAbovePercent: 0));
        }

        foreach (var (table, threshold) in specification.PersonCompletenessThresholds)
        {
            // The specification asks every person to have an observation period (threshold 0); for the event
            // tables a person without records is normal, so those only warn when the table is almost empty.
            var isObservationPeriod = table == "observation_period";
            checks.Add(new DqCheck(
                $"completeness.persons_with_records.{table}",
                DqCategory.Completeness,
                table,
                null,
                isObservationPeriod ? "persons have an observation period" : $"persons have at least one {table} record",
                $"SELECT count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM {S}.{table} t WHERE t.person_id = p.person_id)), count(*) FROM {S}.person p",
                FailAbovePercent: isObservationPeriod ? threshold ?? 0 : 100,
                WarnAbovePercent: isObservationPeriod ? null : 90));
        }
    }

    private static void AddPlausibility(List<DqCheck> checks, List<CdmTable> clinical)
    {
        checks.Add(new DqCheck(
            "plausibility.year_of_birth_range.person",
            DqCategory.Plausibility,
            "person",
            "year_of_birth",
            "person.year_of_birth is between 1850 and this year",
            $"SELECT count(*) FILTER (WHERE year_of_birth < 1850 OR year_of_birth > extract(year FROM current_date)), count(*) FROM {S}.person",
            FailAbovePercent: 0));

        checks.Add(new DqCheck(
            "plausibility.death_after_birth.death",
            DqCategory.Plausibility,
            "death",
            "death_date",
            "death is not before birth",
            $"""
            SELECT count(*) FILTER (WHERE d.death_date < make_date(p.year_of_birth, coalesce(p.month_of_birth, 1), coalesce(p.day_of_birth, 1))), count(*)
            FROM {S}.death d JOIN {S}.person p ON p.person_id = d.person_id
            """,
            FailAbovePercent: 0));

        foreach (var table in clinical)
        {
            foreach (var start in table.Fields.Where(f => f.Name.EndsWith("_start_date", StringComparison.Ordinal)))
            {
                var end = start.Name[..^"_start_date".Length] + "_end_date";
                if (table.Fields.Any(f => f.Name == end))
                {
                    checks.Add(EndAfterStart(table.Name, start.Name, end));
                }
            }
        }

        checks.Add(EndAfterStart("procedure_occurrence", "procedure_date", "procedure_end_date"));

        foreach (var (table, date) in EventDates)
        {
            checks.Add(new DqCheck(
                $"plausibility.after_birth.{table}",
                DqCategory.Plausibility,
                table,
                date,
                $"{table}.{date} is not before the person's year of birth",
                $"""
                SELECT count(*) FILTER (WHERE e.{date} < make_date(p.year_of_birth, 1, 1)), count(*)
                FROM {S}.{table} e JOIN {S}.person p ON p.person_id = e.person_id
                """,
                FailAbovePercent: 1,
                WarnAbovePercent: 0));
        }

        foreach (var range in MeasurementRanges)
        {
            checks.Add(new DqCheck(
                $"plausibility.measurement_range.{range.Id}",
                DqCategory.Plausibility,
                "measurement",
                "value_as_number",
                $"{range.Name} values are within {range.Low}–{range.High}",
                $"""
                SELECT count(*) FILTER (WHERE m.value_as_number < @low OR m.value_as_number > @high), count(*)
                FROM {S}.measurement m
                WHERE m.value_as_number IS NOT NULL
                  AND (m.measurement_concept_id = ANY(@conceptIds)
                       OR m.measurement_concept_id IN (SELECT c.concept_id FROM {S}.concept c WHERE c.vocabulary_id = 'LOINC' AND c.concept_code = ANY(@loincCodes)))
                """,
                FailAbovePercent: 1,
                WarnAbovePercent: 0,
                Parameters: new { low = (decimal)range.Low, high = (decimal)range.High, conceptIds = range.ConceptIds.ToArray(), loincCodes = range.LoincCodes.ToArray() }));
        }

        checks.Add(new DqCheck(
            "plausibility.wearable_daily_ranges.wearable_daily",
            DqCategory.Plausibility,
            "wearable_daily",
            "steps, resting_hr, hrv_rmssd, sleep_minutes, wear_minutes",
            "wearable days: steps 0–100,000, resting HR 25–200, HRV rMSSD 1–300 ms, sleep and wear 0–1,440 minutes",
            $"""
            SELECT count(*) FILTER (WHERE steps NOT BETWEEN 0 AND 100000 OR resting_hr NOT BETWEEN 25 AND 200
                                       OR hrv_rmssd NOT BETWEEN 1 AND 300 OR sleep_minutes NOT BETWEEN 0 AND 1440
                                       OR wear_minutes NOT BETWEEN 0 AND 1440), count(*)
            FROM {S}.wearable_daily
            """,
            FailAbovePercent: 1,
            WarnAbovePercent: 0));

        checks.Add(new DqCheck(
            "plausibility.wearable_hourly_ranges.wearable_hourly",
            DqCategory.Plausibility,
            "wearable_hourly",
            "mean_hr, steps",
            "wearable hours: mean HR 25–250, steps 0–20,000",
            $"SELECT count(*) FILTER (WHERE mean_hr NOT BETWEEN 25 AND 250 OR steps NOT BETWEEN 0 AND 20000), count(*) FROM {S}.wearable_hourly",
            FailAbovePercent: 1,
            WarnAbovePercent: 0));
    }

    private static void AddConsistency(List<DqCheck> checks, List<string> personTables)
    {
        foreach (var table in personTables.Where(t => t != "person"))
        {
            checks.Add(new DqCheck(
                $"consistency.person_exists.{table}",
                DqCategory.Consistency,
                table,
                "person_id",
                $"{table}.person_id is a person of the person table",
                $"SELECT count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM {S}.person p WHERE p.person_id = t.person_id)), count(*) FROM {S}.{table} t",
                FailAbovePercent: 0));
        }

        foreach (var (table, date) in EventDates)
        {
            checks.Add(WithinObservation(table, date, $"{table} events lie within an observation period"));
        }

        checks.Add(WithinObservation("wearable_daily", "measurement_date", "wearable days lie within an observation period"));

        checks.Add(new DqCheck(
            "consistency.visits_before_first_observation.visit_occurrence",
            DqCategory.Consistency,
            "visit_occurrence",
            "visit_start_date",
            "visits (EHR encounters and claims) do not start before the person's first observation period",
            $"""
            SELECT count(*) FILTER (WHERE v.visit_start_date < f.first_start), count(*)
            FROM {S}.visit_occurrence v
            JOIN (SELECT person_id, min(observation_period_start_date) AS first_start FROM {S}.observation_period GROUP BY person_id) f
              ON f.person_id = v.person_id
            """,
            FailAbovePercent: 1,
            WarnAbovePercent: 0));

        checks.Add(new DqCheck(
            "consistency.claims_before_first_observation.cost",
            DqCategory.Consistency,
            "cost",
            "cost_event_id",
            "paid claims (cost of visits and drugs) are not for events before the person's first observation period",
            $"""
            WITH claims AS (
                SELECT v.person_id, v.visit_start_date AS event_date
                FROM {S}.cost c JOIN {S}.visit_occurrence v ON c.cost_domain_id = 'Visit' AND v.visit_occurrence_id = c.cost_event_id
                UNION ALL
                SELECT d.person_id, d.drug_exposure_start_date
                FROM {S}.cost c JOIN {S}.drug_exposure d ON c.cost_domain_id = 'Drug' AND d.drug_exposure_id = c.cost_event_id
            )
            SELECT count(*) FILTER (WHERE f.first_start IS NULL OR c.event_date < f.first_start), count(*)
            FROM claims c
            LEFT JOIN (SELECT person_id, min(observation_period_start_date) AS first_start FROM {S}.observation_period GROUP BY person_id) f
              ON f.person_id = c.person_id
            """,
            FailAbovePercent: 1,
            WarnAbovePercent: 0));

        checks.Add(new DqCheck(
            "consistency.variant_sample_date.variant_occurrence",
            DqCategory.Consistency,
            "variant_occurrence",
            "sample_date",
            "variants have a sample date (needed to place them relative to an index date)",
            $"SELECT count(*) FILTER (WHERE sample_date IS NULL), count(*) FROM {S}.variant_occurrence",
            FailAbovePercent: 5,
            WarnAbovePercent: 0));
    }

    private static DqCheck EndAfterStart(string table, string start, string end) => new(
        $"plausibility.end_after_start.{table}",
        DqCategory.Plausibility,
        table,
        end,
        $"{table}.{end} is not before {start}",
        $"SELECT count(*) FILTER (WHERE {end} < {start}), count(*) FROM {S}.{table}",
        FailAbovePercent: 0);

    private static DqCheck WithinObservation(string table, string date, string description) => new(
        $"consistency.within_observation.{table}",
        DqCategory.Consistency,
        table,
        date,
        description,
        $"""
        SELECT count(*) FILTER (WHERE NOT EXISTS (
                   SELECT 1 FROM {S}.observation_period op
                   WHERE op.person_id = e.person_id AND e.{date} BETWEEN op.observation_period_start_date AND op.observation_period_end_date)),
               count(*)
        FROM {S}.{table} e
        """,
        FailAbovePercent: 5,
        WarnAbovePercent: 0);
}

/// <summary>A plausible range of a measurement, matched by standard concept id or by LOINC code in the vocabulary.</summary>
public sealed record MeasurementRange(string Id, string Name, IReadOnlyList<int> ConceptIds, IReadOnlyList<string> LoincCodes, double Low, double High);
