using Npgsql;
using NpgsqlTypes;

namespace RwePortal.Warehouse.Synthetic;

/// <summary>One target table of the generator: its COPY column list and how a row is written in binary.</summary>
internal interface ISyntheticTable
{
    /// <summary>Table name; <see cref="IsGovernance"/> tables live in schema gov, the others in cdm_&lt;source&gt;.</summary>
    string Name { get; }

    bool IsGovernance { get; }

    int Count(SyntheticBatch batch);

    /// <summary>Writes the rows of the batches, in order, with one binary COPY; returns the rows written.</summary>
    long Write(NpgsqlConnection connection, string schema, string sourceName, IReadOnlyList<SyntheticBatch> batches);
}

internal sealed class SyntheticTable<T>(
    string name,
    string columns,
    Func<SyntheticBatch, List<T>> rows,
    Action<NpgsqlBinaryImporter, T, string> write,
    bool isGovernance = false) : ISyntheticTable
{
    public string Name { get; } = name;

    public bool IsGovernance { get; } = isGovernance;

    public int Count(SyntheticBatch batch) => rows(batch).Count;

    public long Write(NpgsqlConnection connection, string schema, string sourceName, IReadOnlyList<SyntheticBatch> batches)
    {
        long written = 0;
        foreach (var batch in batches)
        {
            written += rows(batch).Count;
        }

        if (written == 0)
        {
            return 0;
        }

        // gov tables have row-level security (FORCEd, db/gov/consent_registry.sql), and PostgreSQL refuses COPY FROM
        // into such a table: their rows are copied into a temporary table and inserted from there.
        var staging = "pg_temp.synthetic_" + Name;
        if (IsGovernance)
        {
            using var create = new NpgsqlCommand(
                $"CREATE TEMP TABLE IF NOT EXISTS synthetic_{Name} AS SELECT {columns} FROM gov.{Name} WITH NO DATA", connection);
            create.ExecuteNonQuery();
        }

        var target = IsGovernance ? staging : schema + "." + Name;
        using (var importer = connection.BeginBinaryImport($"COPY {target} ({columns}) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var batch in batches)
            {
                foreach (var row in rows(batch))
                {
                    importer.StartRow();
                    write(importer, row, sourceName);
                }
            }

            importer.Complete();
        }

        if (IsGovernance)
        {
            using var insert = new NpgsqlCommand(
                $"INSERT INTO gov.{Name} ({columns}) SELECT {columns} FROM {staging}; TRUNCATE {staging}", connection) { CommandTimeout = 0 };
            insert.ExecuteNonQuery();
        }

        return written;
    }
}

/// <summary>
/// The tables the generator fills, in load order, with column types as db/omop/cdm54.sql and db/extensions/ define
/// them (CDM ids integer, person_id bigint, floats numeric).
/// </summary>
internal static class SyntheticTables
{
    public static IReadOnlyList<ISyntheticTable> All { get; } =
    [
        new SyntheticTable<PersonRow>(
            "person",
            "person_id, gender_concept_id, year_of_birth, month_of_birth, day_of_birth, birth_datetime, race_concept_id, ethnicity_concept_id, person_source_value, gender_source_value",
            b => b.Persons,
            (w, r, _) =>
            {
                w.Write(r.PersonId, NpgsqlDbType.Bigint);
                w.Write(r.GenderConceptId, NpgsqlDbType.Integer);
                w.Write(r.YearOfBirth, NpgsqlDbType.Integer);
                w.Write(r.MonthOfBirth, NpgsqlDbType.Integer);
                w.Write(r.DayOfBirth, NpgsqlDbType.Integer);
                w.Write(r.BirthDatetime, NpgsqlDbType.Timestamp);
                w.Write(r.RaceConceptId, NpgsqlDbType.Integer);
                w.Write(r.EthnicityConceptId, NpgsqlDbType.Integer);
                w.Write(r.PersonSourceValue, NpgsqlDbType.Varchar);
                w.Write(r.GenderSourceValue, NpgsqlDbType.Varchar);
            }),
        new SyntheticTable<ObservationPeriodRow>(
            "observation_period",
            "observation_period_id, person_id, observation_period_start_date, observation_period_end_date, period_type_concept_id",
            b => b.ObservationPeriods,
            (w, r, _) =>
            {
                w.Write((int)r.ObservationPeriodId, NpgsqlDbType.Integer);
                w.Write(r.PersonId, NpgsqlDbType.Bigint);
                w.Write(r.Start, NpgsqlDbType.Date);
                w.Write(r.End, NpgsqlDbType.Date);
                w.Write(r.TypeConceptId, NpgsqlDbType.Integer);
            }),
        new SyntheticTable<PayerPlanPeriodRow>(
            "payer_plan_period",
            "payer_plan_period_id, person_id, payer_plan_period_start_date, payer_plan_period_end_date, payer_concept_id, payer_source_value, plan_source_value",
            b => b.PayerPlanPeriods,
            (w, r, _) =>
            {
                w.Write((int)r.PayerPlanPeriodId, NpgsqlDbType.Integer);
                w.Write(r.PersonId, NpgsqlDbType.Bigint);
                w.Write(r.Start, NpgsqlDbType.Date);
                w.Write(r.End, NpgsqlDbType.Date);
                w.Write(r.PayerConceptId, NpgsqlDbType.Integer);
                w.Write(r.PayerSourceValue, NpgsqlDbType.Varchar);
                w.Write(r.PlanSourceValue, NpgsqlDbType.Varchar);
            }),
        new SyntheticTable<VisitRow>(
            "visit_occurrence",
            "visit_occurrence_id, person_id, visit_concept_id, visit_start_date, visit_end_date, visit_type_concept_id, visit_source_value",
            b => b.Visits,
            (w, r, _) =>
            {
                w.Write((int)r.VisitOccurrenceId, NpgsqlDbType.Integer);
                w.Write(r.PersonId, NpgsqlDbType.Bigint);
                w.Write(r.VisitConceptId, NpgsqlDbType.Integer);
                w.Write(r.Start, NpgsqlDbType.Date);
                w.Write(r.End, NpgsqlDbType.Date);
                w.Write(r.TypeConceptId, NpgsqlDbType.Integer);
                w.Write(r.SourceValue, NpgsqlDbType.Varchar);
            }),
        new SyntheticTable<ConditionRow>(
            "condition_occurrence",
            "condition_occurrence_id, person_id, condition_concept_id, condition_start_date, condition_end_date, condition_type_concept_id, visit_occurrence_id",
            b => b.Conditions,
            (w, r, _) =>
            {
                w.Write((int)r.ConditionOccurrenceId, NpgsqlDbType.Integer);
                w.Write(r.PersonId, NpgsqlDbType.Bigint);
                w.Write(r.ConceptId, NpgsqlDbType.Integer);
                w.Write(r.Start, NpgsqlDbType.Date);
                WriteNullable(w, r.End);
                w.Write(r.TypeConceptId, NpgsqlDbType.Integer);
                WriteNullableId(w, r.VisitOccurrenceId);
            }),
        new SyntheticTable<DrugRow>(
            "drug_exposure",
            "drug_exposure_id, person_id, drug_concept_id, drug_exposure_start_date, drug_exposure_end_date, drug_type_concept_id, refills, quantity, days_supply, visit_occurrence_id",
            b => b.Drugs,
            (w, r, _) =>
            {
                w.Write((int)r.DrugExposureId, NpgsqlDbType.Integer);
                w.Write(r.PersonId, NpgsqlDbType.Bigint);
                w.Write(r.ConceptId, NpgsqlDbType.Integer);
                w.Write(r.Start, NpgsqlDbType.Date);
                w.Write(r.End, NpgsqlDbType.Date);
                w.Write(r.TypeConceptId, NpgsqlDbType.Integer);
                w.Write(r.Refills, NpgsqlDbType.Integer);
                w.Write((decimal)r.Quantity, NpgsqlDbType.Numeric);
                w.Write(r.DaysSupply, NpgsqlDbType.Integer);
                WriteNullableId(w, r.VisitOccurrenceId);
            }),
        new SyntheticTable<MeasurementRow>(
            "measurement",
            "measurement_id, person_id, measurement_concept_id, measurement_date, measurement_type_concept_id, value_as_number, unit_concept_id, range_low, range_high, visit_occurrence_id",
            b => b.Measurements,
            (w, r, _) =>
            {
                w.Write((int)r.MeasurementId, NpgsqlDbType.Integer);
                w.Write(r.PersonId, NpgsqlDbType.Bigint);
                w.Write(r.ConceptId, NpgsqlDbType.Integer);
                w.Write(r.Date, NpgsqlDbType.Date);
                w.Write(r.TypeConceptId, NpgsqlDbType.Integer);
                w.Write((decimal)r.Value, NpgsqlDbType.Numeric);
                w.Write(r.UnitConceptId, NpgsqlDbType.Integer);
                WriteNullableNumeric(w, r.RangeLow);
                WriteNullableNumeric(w, r.RangeHigh);
                WriteNullableId(w, r.VisitOccurrenceId);
            }),
        new SyntheticTable<ObservationRow>(
            "observation",
            "observation_id, person_id, observation_concept_id, observation_date, observation_type_concept_id, value_as_number, unit_concept_id",
            b => b.Observations,
            (w, r, _) =>
            {
                w.Write((int)r.ObservationId, NpgsqlDbType.Integer);
                w.Write(r.PersonId, NpgsqlDbType.Bigint);
                w.Write(r.ConceptId, NpgsqlDbType.Integer);
                w.Write(r.Date, NpgsqlDbType.Date);
                w.Write(r.TypeConceptId, NpgsqlDbType.Integer);
                w.Write((decimal)r.Value, NpgsqlDbType.Numeric);
                w.Write(r.UnitConceptId, NpgsqlDbType.Integer);
            }),
        new SyntheticTable<DeathRow>(
            "death",
            "person_id, death_date, death_type_concept_id, cause_concept_id",
            b => b.Deaths,
            (w, r, _) =>
            {
                w.Write(r.PersonId, NpgsqlDbType.Bigint);
                w.Write(r.Date, NpgsqlDbType.Date);
                w.Write(r.TypeConceptId, NpgsqlDbType.Integer);
                w.Write(r.CauseConceptId, NpgsqlDbType.Integer);
            }),
        new SyntheticTable<CostRow>(
            "cost",
            "cost_id, cost_event_id, cost_domain_id, cost_type_concept_id, currency_concept_id, total_charge, total_cost, total_paid, paid_by_payer, paid_by_patient, payer_plan_period_id, drg_concept_id, drg_source_value",
            b => b.Costs,
            (w, r, _) =>
            {
                w.Write((int)r.CostId, NpgsqlDbType.Integer);
                w.Write((int)r.CostEventId, NpgsqlDbType.Integer);
                w.Write(r.CostDomainId, NpgsqlDbType.Varchar);
                w.Write(r.CostTypeConceptId, NpgsqlDbType.Integer);
                w.Write(Vocabulary.ConceptIds.UsDollar, NpgsqlDbType.Integer);
                w.Write((decimal)r.TotalCharge, NpgsqlDbType.Numeric);
                w.Write((decimal)r.TotalCost, NpgsqlDbType.Numeric);
                w.Write((decimal)r.TotalPaid, NpgsqlDbType.Numeric);
                w.Write((decimal)r.PaidByPayer, NpgsqlDbType.Numeric);
                w.Write((decimal)r.PaidByPatient, NpgsqlDbType.Numeric);
                WriteNullableId(w, r.PayerPlanPeriodId);
                if (r.DrgConceptId is { } drg)
                {
                    w.Write(drg, NpgsqlDbType.Integer);
                    w.Write(r.DrgSourceValue!, NpgsqlDbType.Varchar);
                }
                else
                {
                    w.WriteNull();
                    w.WriteNull();
                }
            }),
        new SyntheticTable<VariantRow>(
            "variant_occurrence",
            "variant_occurrence_id, person_id, sample_date, gene_symbol, hgvs_c, hgvs_p, rsid, chromosome, position, reference_allele, alternate_allele, zygosity, clinical_significance, variant_source_value",
            b => b.Variants,
            (w, r, _) =>
            {
                w.Write(r.VariantOccurrenceId, NpgsqlDbType.Bigint);
                w.Write(r.PersonId, NpgsqlDbType.Bigint);
                w.Write(r.SampleDate, NpgsqlDbType.Date);
                w.Write(r.GeneSymbol, NpgsqlDbType.Text);
                w.Write(r.HgvsC, NpgsqlDbType.Text);
                w.Write(r.HgvsP, NpgsqlDbType.Text);
                WriteNullableText(w, r.Rsid);
                w.Write(r.Chromosome, NpgsqlDbType.Text);
                w.Write(r.Position, NpgsqlDbType.Bigint);
                w.Write(r.ReferenceAllele, NpgsqlDbType.Text);
                w.Write(r.AlternateAllele, NpgsqlDbType.Text);
                w.Write(r.Zygosity, NpgsqlDbType.Text);
                w.Write(r.ClinicalSignificance, NpgsqlDbType.Text);
                w.Write(r.VariantSourceValue, NpgsqlDbType.Text);
            }),
        new SyntheticTable<GenomicScoreRow>(
            "genomic_score",
            "genomic_score_id, person_id, score_id, score_name, value, percentile, measured_date",
            b => b.GenomicScores,
            (w, r, _) =>
            {
                w.Write(r.GenomicScoreId, NpgsqlDbType.Bigint);
                w.Write(r.PersonId, NpgsqlDbType.Bigint);
                w.Write(r.ScoreId, NpgsqlDbType.Text);
                w.Write(r.ScoreName, NpgsqlDbType.Text);
                w.Write(r.Value, NpgsqlDbType.Double);
                w.Write(r.Percentile, NpgsqlDbType.Double);
                w.Write(r.MeasuredDate, NpgsqlDbType.Date);
            }),
        new SyntheticTable<WearableDailyRow>(
            "wearable_daily",
            "person_id, measurement_date, device, steps, resting_hr, hrv_rmssd, sleep_minutes, wear_minutes",
            b => b.WearableDaily,
            (w, r, _) =>
            {
                w.Write(r.PersonId, NpgsqlDbType.Bigint);
                w.Write(r.Date, NpgsqlDbType.Date);
                w.Write(r.Device, NpgsqlDbType.Text);
                w.Write(r.Steps, NpgsqlDbType.Integer);
                w.Write((decimal)r.RestingHr, NpgsqlDbType.Numeric);
                w.Write((decimal)r.HrvRmssd, NpgsqlDbType.Numeric);
                w.Write(r.SleepMinutes, NpgsqlDbType.Integer);
                w.Write(r.WearMinutes, NpgsqlDbType.Integer);
            }),
        new SyntheticTable<WearableHourlyRow>(
            "wearable_hourly",
            "person_id, hour, device, mean_hr, steps",
            b => b.WearableHourly,
            (w, r, _) =>
            {
                w.Write(r.PersonId, NpgsqlDbType.Bigint);
                w.Write(r.Hour, NpgsqlDbType.Timestamp);
                w.Write(r.Device, NpgsqlDbType.Text);
                w.Write((decimal)r.MeanHr, NpgsqlDbType.Numeric);
                w.Write(r.Steps, NpgsqlDbType.Integer);
            }),
        new SyntheticTable<ConsentRow>(
            "consent",
            "source, person_id, purpose, status, effective_from, effective_to, recorded_at, recorded_by, reason",
            b => b.Consents,
            (w, r, source) =>
            {
                w.Write(source, NpgsqlDbType.Text);
                w.Write(r.PersonId, NpgsqlDbType.Bigint);
                w.Write(r.Purpose, NpgsqlDbType.Text);
                w.Write(r.Status, NpgsqlDbType.Text);
                w.Write(r.EffectiveFrom, NpgsqlDbType.Date);
                WriteNullable(w, r.EffectiveTo);
                w.Write(r.RecordedAt, NpgsqlDbType.TimestampTz);
                w.Write(PersonGenerator.RecordedBy, NpgsqlDbType.Text);
                WriteNullableText(w, r.Reason);
            },
            isGovernance: true),
    ];

    private static void WriteNullable(NpgsqlBinaryImporter w, DateOnly? value)
    {
        if (value is { } v)
        {
            w.Write(v, NpgsqlDbType.Date);
        }
        else
        {
            w.WriteNull();
        }
    }

    private static void WriteNullableId(NpgsqlBinaryImporter w, long? value)
    {
        if (value is { } v)
        {
            w.Write((int)v, NpgsqlDbType.Integer);
        }
        else
        {
            w.WriteNull();
        }
    }

    private static void WriteNullableNumeric(NpgsqlBinaryImporter w, double? value)
    {
        if (value is { } v)
        {
            w.Write((decimal)v, NpgsqlDbType.Numeric);
        }
        else
        {
            w.WriteNull();
        }
    }

    private static void WriteNullableText(NpgsqlBinaryImporter w, string? value)
    {
        if (value is not null)
        {
            w.Write(value, NpgsqlDbType.Text);
        }
        else
        {
            w.WriteNull();
        }
    }
}
