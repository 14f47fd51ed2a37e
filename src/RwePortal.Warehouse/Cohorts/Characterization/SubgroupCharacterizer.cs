using System.Diagnostics;
using Dapper;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Warehouse.Cohorts.Characterization;

/// <summary>How a row's count relates to the subgroup's persons.</summary>
public enum CharacterizationRowKind
{
    /// <summary>One of disjoint categories that together hold every member (sex, race, ethnicity, age band).</summary>
    Partition,

    /// <summary>Members with something (a condition, a drug, a variant, a visit type); rows may overlap.</summary>
    Share,

    /// <summary>A distribution of values over the members that have one (age, a measurement, a wearable metric, a PRO score).</summary>
    Distribution,
}

/// <summary>
/// One exact aggregate of a subgroup's members. <see cref="Persons"/> is the number of members the row counts (those in
/// the category, with the event, or with a value); the statistics are over those members' values (null when the row has
/// none). Exact: callers that show it apply the small-cell policy.
/// </summary>
public sealed record CharacterizationRow(
    string Section,
    string Key,
    string Label,
    CharacterizationRowKind Kind,
    long Persons,
    double? Mean,
    double? Sd,
    double? P25,
    double? Median,
    double? P75,
    string? Unit,
    int Rank);

/// <summary>The exact Table 1 of a subgroup on one source for one purpose: its consented members and the rows over them.</summary>
public sealed record SubgroupCharacterization(
    string Source,
    string Purpose,
    long Persons,
    IReadOnlyList<CharacterizationRow> Rows,
    TimeSpan Duration);

/// <summary>
/// A section of the Table 1: its key, title, what its rows are, whether its rows are a top list, and the row (if any)
/// whose members hold every other row's members (the wearers of the wearable section), a total of its own.
/// </summary>
public sealed record CharacterizationSection(string Key, string Title, CharacterizationRowKind Kind, bool TopList, string? TotalRow = null);

/// <summary>
/// Characterizes a subgroup's members ("Table 1") across modalities in ONE set-based statement run as the read-only
/// warehouse role: the members statement of <see cref="SubgroupCompiler.CompileMembers"/> (consent inside) is embedded
/// as a materialized CTE, every aggregate reads it, and each row comes back in one shape (section, key, label, persons,
/// mean, sd, quartiles, unit). Each member's reference date is the index date, or without an index event the end of the
/// member's last observation period (docs/characterization.md, decision 0780).
/// </summary>
public sealed class SubgroupCharacterizer(WarehouseConnections connections)
{
    /// <summary>Conditions and drugs shown by default (most frequent first).</summary>
    public const int TopConcepts = 20;

    /// <summary>Measurements, PRO scores and variant groups shown by default (most frequent first).</summary>
    public const int TopMeasurements = 10;

    public const int TopVariants = 30;

    /// <summary>The observation/measurement type of survey answers: PRO scores are rows of this type with a value.</summary>
    public const int PatientFilledSurvey = 32862;

    /// <summary>The sections in the order a Table 1 shows them.</summary>
    public static IReadOnlyList<CharacterizationSection> Sections { get; } =
    [
        new("age", "Age at index", CharacterizationRowKind.Distribution, false),
        new("age_band", "Age band at index", CharacterizationRowKind.Partition, false),
        new("sex", "Sex", CharacterizationRowKind.Partition, false),
        new("race", "Race", CharacterizationRowKind.Partition, false),
        new("ethnicity", "Ethnicity", CharacterizationRowKind.Partition, false),
        new("conditions", "Conditions on or before index (top 20)", CharacterizationRowKind.Share, true),
        new("drugs", "Drugs on or before index (top 20)", CharacterizationRowKind.Share, true),
        new("measurements", "Measurements (latest on or before index)", CharacterizationRowKind.Distribution, true),
        new("variants", "Variant carriers by gene and clinical significance", CharacterizationRowKind.Share, true),
        new("wearables", "Wearables (90 days before index, worn days)", CharacterizationRowKind.Distribution, false, "days_worn"),
        new("visits", "Visits by type (year before index)", CharacterizationRowKind.Share, false),
        new("cost", "Total paid (year before index)", CharacterizationRowKind.Share, false),
        new("pro", "Patient-reported outcomes (latest on or before index)", CharacterizationRowKind.Distribution, true),
    ];

    /// <summary>
    /// The statement for a definition: the members statement as a CTE, then every aggregate. <paramref name="include"/>
    /// names rows ("section:key") to return even outside a top list, so two subgroups can be compared on the same rows;
    /// an included row that is absent has no member with it.
    /// </summary>
    public static CompiledSubgroup Compile(SubgroupDefinition definition, DataSource source, string purpose, IReadOnlyCollection<string>? include = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        var members = SubgroupCompiler.CompileMembers(definition, source.SchemaName, source.Name, purpose);
        var schema = "\"" + Schema.SchemaName.Validate(source.SchemaName) + "\"";
        var parameters = members.Parameters.ToList();
        parameters.Add(new SqlParameter("ch_top", TopConcepts));
        parameters.Add(new SqlParameter("ch_top_measurements", TopMeasurements));
        parameters.Add(new SqlParameter("ch_top_variants", TopVariants));
        parameters.Add(new SqlParameter("ch_survey", PatientFilledSurvey));
        parameters.Add(new SqlParameter("ch_include", (include ?? []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray()));
        var sql = Sql.Replace("{members}", Indent(members.Sql), StringComparison.Ordinal).Replace("{s}", schema, StringComparison.Ordinal);
        return new CompiledSubgroup(sql, parameters, members.Steps);
    }

    public async Task<SubgroupCharacterization> CharacterizeAsync(
        SubgroupDefinition definition, DataSource source, string purpose, IReadOnlyCollection<string>? include, CancellationToken cancellationToken)
    {
        var compiled = Compile(definition, source, purpose, include);
        var parameters = new DynamicParameters();
        foreach (var parameter in compiled.Parameters)
        {
            parameters.Add(parameter.Name, parameter.Value);
        }

        var clock = Stopwatch.StartNew();
        await using var connection = await connections.OpenAsync(cancellationToken);
        var raw = await connection.QueryAsync<RawRow>(new CommandDefinition(
            compiled.Sql, parameters, commandTimeout: WarehouseConnections.CommandTimeoutSeconds, cancellationToken: cancellationToken));
        var rows = new List<CharacterizationRow>();
        long persons = 0;
        foreach (var r in raw)
        {
            if (r.Section == "persons")
            {
                persons = r.Persons;
                continue;
            }

            rows.Add(new CharacterizationRow(
                r.Section, r.RowKey, r.Label, Enum.Parse<CharacterizationRowKind>(r.Kind, ignoreCase: true), r.Persons,
                r.Mean, r.Sd, r.P25, r.Median, r.P75, r.Unit, (int)r.Rank));
        }

        var order = Sections.Select((s, i) => (s.Key, i)).ToDictionary(p => p.Key, p => p.i);
        rows = rows.OrderBy(r => order[r.Section]).ThenBy(r => r.Rank).ThenBy(r => r.Key, StringComparer.Ordinal).ToList();
        return new SubgroupCharacterization(source.Name, purpose, persons, rows, clock.Elapsed);
    }

    private static string Indent(string sql) => "    " + sql.ReplaceLineEndings("\n    ");

    private sealed record RawRow(
        string Section, string RowKey, string Label, string Kind, long Persons,
        double? Mean, double? Sd, double? P25, double? Median, double? P75, string? Unit, long Rank);

    // {s} is the validated, quoted schema; {members} the members statement. Every value is a parameter. Windows: history
    // on or before the reference date; the wearable window is the 90 days before it, visits and cost the 365 days before it.
    private const string Sql = """
        WITH members AS MATERIALIZED (
        {members}
        ),
        m AS MATERIALIZED (
            SELECT mb.person_id,
                   coalesce(mb.index_date,
                            (SELECT max(op.observation_period_end_date) FROM {s}.observation_period op WHERE op.person_id = mb.person_id),
                            current_date) AS ref_date,
                   p.year_of_birth, p.gender_concept_id, p.race_concept_id, p.ethnicity_concept_id
            FROM members mb
            JOIN {s}.person p ON p.person_id = mb.person_id
        ),
        ages AS MATERIALIZED (
            SELECT m.person_id, CAST(extract(year FROM m.ref_date) AS integer) - m.year_of_birth AS age FROM m
        ),
        demographic AS (
            SELECT 'sex' AS section, m.gender_concept_id AS concept_id FROM m
            UNION ALL SELECT 'race', m.race_concept_id FROM m
            UNION ALL SELECT 'ethnicity', m.ethnicity_concept_id FROM m
        ),
        conditions AS (
            SELECT x.concept_id, count(*) AS n
            FROM m CROSS JOIN LATERAL (
                SELECT DISTINCT co.condition_concept_id AS concept_id FROM {s}.condition_occurrence co
                WHERE co.person_id = m.person_id AND co.condition_start_date <= m.ref_date AND co.condition_concept_id <> 0
                OFFSET 0) x
            GROUP BY x.concept_id
        ),
        drugs AS (
            SELECT x.concept_id, count(*) AS n
            FROM m CROSS JOIN LATERAL (
                SELECT DISTINCT de.drug_concept_id AS concept_id FROM {s}.drug_exposure de
                WHERE de.person_id = m.person_id AND de.drug_exposure_start_date <= m.ref_date AND de.drug_concept_id <> 0
                OFFSET 0) x
            GROUP BY x.concept_id
        ),
        measurement_latest AS (
            SELECT m.person_id, x.concept_id, x.unit_id, x.v
            FROM m CROSS JOIN LATERAL (
                SELECT DISTINCT ON (me.measurement_concept_id, coalesce(me.unit_concept_id, 0))
                       me.measurement_concept_id AS concept_id, coalesce(me.unit_concept_id, 0) AS unit_id, CAST(me.value_as_number AS double precision) AS v
                FROM {s}.measurement me
                WHERE me.person_id = m.person_id AND me.measurement_date <= m.ref_date
                  AND me.value_as_number IS NOT NULL AND me.measurement_concept_id <> 0
                  AND me.measurement_type_concept_id IS DISTINCT FROM @ch_survey
                ORDER BY me.measurement_concept_id, coalesce(me.unit_concept_id, 0), me.measurement_date DESC, me.measurement_id DESC
                OFFSET 0) x
        ),
        measurements AS (
            SELECT concept_id, unit_id, count(*) AS n, avg(v) AS mean, stddev_samp(v) AS sd,
                   percentile_cont(0.25) WITHIN GROUP (ORDER BY v) AS p25,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS median,
                   percentile_cont(0.75) WITHIN GROUP (ORDER BY v) AS p75
            FROM measurement_latest GROUP BY concept_id, unit_id
        ),
        variants AS (
            SELECT x.gene, x.significance, count(*) AS n
            FROM m CROSS JOIN LATERAL (
                SELECT DISTINCT vo.gene_symbol AS gene, coalesce(vo.clinical_significance, 'not classified') AS significance
                FROM {s}.variant_occurrence vo
                WHERE vo.person_id = m.person_id AND (vo.sample_date IS NULL OR vo.sample_date <= m.ref_date) AND vo.gene_symbol IS NOT NULL
                OFFSET 0) x
            GROUP BY x.gene, x.significance
        ),
        wearers AS MATERIALIZED (
            SELECT m.person_id, x.*
            FROM m CROSS JOIN LATERAL (
                SELECT CAST(count(*) AS double precision) AS days,
                       CAST(avg(d.steps) AS double precision) AS steps, CAST(avg(d.resting_hr) AS double precision) AS resting_hr,
                       CAST(avg(d.hrv) AS double precision) AS hrv, CAST(avg(d.sleep) AS double precision) AS sleep
                FROM (SELECT wd.measurement_date, avg(wd.steps) AS steps, avg(wd.resting_hr) AS resting_hr,
                             avg(wd.hrv_rmssd) AS hrv, avg(wd.sleep_minutes) AS sleep
                      FROM {s}.wearable_daily wd
                      WHERE wd.person_id = m.person_id AND wd.measurement_date BETWEEN m.ref_date - 90 AND m.ref_date - 1 AND wd.wear_minutes > 0
                      GROUP BY wd.measurement_date) d
                OFFSET 0) x
            WHERE x.days > 0
        ),
        wearable_values AS (
            SELECT 'days_worn' AS metric, 1 AS rank, 'Days worn (persons with a worn day)' AS label, 'days' AS unit, person_id, days AS v FROM wearers
            UNION ALL SELECT 'steps', 2, 'Mean daily steps', 'steps/day', person_id, steps FROM wearers
            UNION ALL SELECT 'resting_hr', 3, 'Mean resting heart rate', 'bpm', person_id, resting_hr FROM wearers
            UNION ALL SELECT 'hrv', 4, 'Mean heart rate variability (rMSSD)', 'ms', person_id, hrv FROM wearers
            UNION ALL SELECT 'sleep', 5, 'Mean sleep', 'min/day', person_id, sleep FROM wearers
        ),
        visit_counts AS (
            SELECT m.person_id, x.concept_id, x.visits
            FROM m CROSS JOIN LATERAL (
                SELECT vo.visit_concept_id AS concept_id, CAST(count(*) AS double precision) AS visits
                FROM {s}.visit_occurrence vo
                WHERE vo.person_id = m.person_id AND vo.visit_start_date BETWEEN m.ref_date - 365 AND m.ref_date - 1
                GROUP BY vo.visit_concept_id
                OFFSET 0) x
        ),
        paid AS (
            SELECT m.person_id, x.paid, x.currency_min, x.currency_max
            FROM m CROSS JOIN LATERAL (
                SELECT CAST(sum(costed.total_paid) AS double precision) AS paid, count(*) AS events,
                       min(costed.currency_concept_id) AS currency_min, max(costed.currency_concept_id) AS currency_max FROM (
                    SELECT c.total_paid, c.currency_concept_id
                    FROM {s}.visit_occurrence vo
                    JOIN {s}.cost c ON c.cost_event_id = vo.visit_occurrence_id AND c.cost_domain_id = 'Visit'
                    WHERE vo.person_id = m.person_id AND vo.visit_start_date BETWEEN m.ref_date - 365 AND m.ref_date - 1 AND c.total_paid IS NOT NULL
                    UNION ALL
                    SELECT c.total_paid, c.currency_concept_id
                    FROM {s}.drug_exposure de
                    JOIN {s}.cost c ON c.cost_event_id = de.drug_exposure_id AND c.cost_domain_id = 'Drug'
                    WHERE de.person_id = m.person_id AND de.drug_exposure_start_date BETWEEN m.ref_date - 365 AND m.ref_date - 1 AND c.total_paid IS NOT NULL
                ) costed
                OFFSET 0) x
            WHERE x.events > 0
        ),
        paid_unit AS (
            SELECT CASE WHEN count(p.currency_min) = 0 THEN NULL
                        WHEN min(p.currency_min) = max(p.currency_max) THEN coalesce(max(cu.concept_code), 'concept ' || min(p.currency_min))
                        ELSE 'mixed currencies' END AS unit
            FROM paid p LEFT JOIN {s}.concept cu ON cu.concept_id = p.currency_min
        ),
        pro_latest AS (
            SELECT m.person_id, x.concept_id, x.v
            FROM m CROSS JOIN LATERAL (
                SELECT DISTINCT ON (answers.concept_id) answers.concept_id, answers.v FROM (
                    SELECT o.observation_concept_id AS concept_id, CAST(o.value_as_number AS double precision) AS v, o.observation_date AS d, o.observation_id AS id
                    FROM {s}.observation o
                    WHERE o.person_id = m.person_id AND o.observation_date <= m.ref_date
                      AND o.observation_type_concept_id = @ch_survey AND o.value_as_number IS NOT NULL
                    UNION ALL
                    SELECT me.measurement_concept_id, CAST(me.value_as_number AS double precision), me.measurement_date, me.measurement_id
                    FROM {s}.measurement me
                    WHERE me.person_id = m.person_id AND me.measurement_date <= m.ref_date
                      AND me.measurement_type_concept_id = @ch_survey AND me.value_as_number IS NOT NULL
                ) answers
                ORDER BY answers.concept_id, answers.d DESC, answers.id DESC
                OFFSET 0) x
        ),
        pros AS (
            SELECT concept_id, count(*) AS n, avg(v) AS mean, stddev_samp(v) AS sd,
                   percentile_cont(0.25) WITHIN GROUP (ORDER BY v) AS p25,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS median,
                   percentile_cont(0.75) WITHIN GROUP (ORDER BY v) AS p75
            FROM pro_latest GROUP BY concept_id
        ),
        result AS (
            SELECT 'persons' AS section, 'persons' AS row_key, 'Persons' AS label, 'share' AS kind, count(*) AS persons,
                   CAST(NULL AS double precision) AS mean, CAST(NULL AS double precision) AS sd,
                   CAST(NULL AS double precision) AS p25, CAST(NULL AS double precision) AS median, CAST(NULL AS double precision) AS p75,
                   CAST(NULL AS text) AS unit, CAST(0 AS bigint) AS rank
            FROM m
            UNION ALL
            SELECT 'age', 'age', 'Age at index', 'distribution', count(age), avg(age), stddev_samp(age),
                   percentile_cont(0.25) WITHIN GROUP (ORDER BY age), percentile_cont(0.5) WITHIN GROUP (ORDER BY age),
                   percentile_cont(0.75) WITHIN GROUP (ORDER BY age), 'years', 0
            FROM ages
            UNION ALL
            SELECT 'age_band', CAST(band AS text) || '-' || CASE WHEN band = 90 THEN '' ELSE CAST(band + 9 AS text) END,
                   CASE WHEN band = 90 THEN '90 and over' ELSE CAST(band AS text) || '–' || CAST(band + 9 AS text) END,
                   'partition', count(*), NULL, NULL, NULL, NULL, NULL, NULL, band
            FROM (SELECT least(greatest(age, 0) / 10, 9) * 10 AS band FROM ages) b
            GROUP BY band
            UNION ALL
            SELECT d.section, CAST(d.concept_id AS text),
                   CASE WHEN d.concept_id = 0 OR d.concept_id IS NULL THEN 'Not recorded' ELSE coalesce(c.concept_name, 'concept ' || d.concept_id) END,
                   'partition', count(*), NULL, NULL, NULL, NULL, NULL, NULL, 0
            FROM demographic d LEFT JOIN {s}.concept c ON c.concept_id = d.concept_id
            GROUP BY d.section, d.concept_id, c.concept_name
            UNION ALL
            SELECT 'conditions', CAST(r.concept_id AS text), coalesce(c.concept_name, 'concept ' || r.concept_id), 'share', r.n,
                   NULL, NULL, NULL, NULL, NULL, NULL, r.rank
            FROM (SELECT concept_id, n, row_number() OVER (ORDER BY n DESC, concept_id) AS rank FROM conditions) r
            LEFT JOIN {s}.concept c ON c.concept_id = r.concept_id
            WHERE r.rank <= @ch_top OR 'conditions:' || r.concept_id = ANY(@ch_include)
            UNION ALL
            SELECT 'drugs', CAST(r.concept_id AS text), coalesce(c.concept_name, 'concept ' || r.concept_id), 'share', r.n,
                   NULL, NULL, NULL, NULL, NULL, NULL, r.rank
            FROM (SELECT concept_id, n, row_number() OVER (ORDER BY n DESC, concept_id) AS rank FROM drugs) r
            LEFT JOIN {s}.concept c ON c.concept_id = r.concept_id
            WHERE r.rank <= @ch_top OR 'drugs:' || r.concept_id = ANY(@ch_include)
            UNION ALL
            SELECT 'measurements', r.concept_id || '/' || r.unit_id, coalesce(c.concept_name, 'concept ' || r.concept_id), 'distribution', r.n,
                   r.mean, r.sd, r.p25, r.median, r.p75, CASE WHEN r.unit_id = 0 THEN NULL ELSE coalesce(u.concept_code, u.concept_name, 'concept ' || r.unit_id) END, r.rank
            FROM (SELECT *, row_number() OVER (ORDER BY n DESC, concept_id, unit_id) AS rank FROM measurements) r
            LEFT JOIN {s}.concept c ON c.concept_id = r.concept_id
            LEFT JOIN {s}.concept u ON u.concept_id = r.unit_id
            WHERE r.rank <= @ch_top_measurements OR 'measurements:' || r.concept_id || '/' || r.unit_id = ANY(@ch_include)
            UNION ALL
            SELECT 'variants', r.gene || '/' || r.significance, r.gene || ': ' || replace(r.significance, '_', ' '), 'share', r.n,
                   NULL, NULL, NULL, NULL, NULL, NULL, r.rank
            FROM (SELECT *, row_number() OVER (ORDER BY n DESC, gene, significance) AS rank FROM variants) r
            WHERE r.rank <= @ch_top_variants OR 'variants:' || r.gene || '/' || r.significance = ANY(@ch_include)
            UNION ALL
            SELECT 'wearables', metric, label, CASE WHEN metric = 'days_worn' THEN 'share' ELSE 'distribution' END, count(v), avg(v), stddev_samp(v),
                   percentile_cont(0.25) WITHIN GROUP (ORDER BY v), percentile_cont(0.5) WITHIN GROUP (ORDER BY v),
                   percentile_cont(0.75) WITHIN GROUP (ORDER BY v), unit, rank
            FROM wearable_values GROUP BY metric, label, unit, rank
            UNION ALL
            SELECT 'visits', CAST(x.concept_id AS text), coalesce(c.concept_name, 'concept ' || x.concept_id), 'share', count(*),
                   avg(x.visits), stddev_samp(x.visits), percentile_cont(0.25) WITHIN GROUP (ORDER BY x.visits),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY x.visits), percentile_cont(0.75) WITHIN GROUP (ORDER BY x.visits),
                   'visits', row_number() OVER (ORDER BY count(*) DESC, x.concept_id)
            FROM visit_counts x LEFT JOIN {s}.concept c ON c.concept_id = x.concept_id
            GROUP BY x.concept_id, c.concept_name
            UNION ALL
            SELECT 'cost', 'total_paid', 'Persons with a paid visit or dispensing (total paid per person)', 'share', count(*),
                   avg(paid), stddev_samp(paid), percentile_cont(0.25) WITHIN GROUP (ORDER BY paid),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY paid), percentile_cont(0.75) WITHIN GROUP (ORDER BY paid),
                   (SELECT unit FROM paid_unit), 0
            FROM paid
            UNION ALL
            SELECT 'pro', CAST(r.concept_id AS text), coalesce(c.concept_name, 'concept ' || r.concept_id), 'distribution', r.n,
                   r.mean, r.sd, r.p25, r.median, r.p75, 'score', r.rank
            FROM (SELECT *, row_number() OVER (ORDER BY n DESC, concept_id) AS rank FROM pros) r
            LEFT JOIN {s}.concept c ON c.concept_id = r.concept_id
            WHERE r.rank <= @ch_top_measurements OR 'pro:' || r.concept_id = ANY(@ch_include)
        )
        SELECT section, row_key AS "RowKey", label, kind, persons, mean, sd, p25, median, p75, unit, rank FROM result
        """;
}
