using System.Globalization;
using System.Text;
using RwePortal.Warehouse.Cohorts;
using RwePortal.Warehouse.Protocols;
using RwePortal.Warehouse.Schema;

namespace RwePortal.Warehouse.Analyses;

/// <summary>A window relative to time zero in days, both ends inclusive (End is -1 or earlier: never time zero or after).</summary>
public sealed record CovariateWindow(int Start, int End)
{
    /// <summary>"365d" for a window of 365 days ending the day before time zero, else "-90..-31d".</summary>
    public string Label => End == -1 ? (-Start).ToString(CultureInfo.InvariantCulture) + "d"
        : string.Create(CultureInfo.InvariantCulture, $"{Start}..{End}d");

    public string Describe => End == -1
        ? string.Create(CultureInfo.InvariantCulture, $"{-Start} days before")
        : string.Create(CultureInfo.InvariantCulture, $"{-Start} to {-End} days before");
}

/// <summary>What a part of the statement computes.</summary>
internal enum PartKind
{
    Demographics,
    Events,
    EventItems,
    Latest,
    LatestItems,
    Variants,
    GenomicScores,
    Wearables,
    Claims,
    Charlson,
}

/// <summary>Where an event modality lives (fixed text) and how its groups are formed.</summary>
internal sealed record EventSource(string Label, string Table, string Concept, string Date, string Id, string? Filter, string? GroupRule);

/// <summary>
/// One part of the statement: a spec's analysis. <see cref="Range"/> is the window the SQL reads; <see cref="Windows"/>
/// the binary windows within it (event parts: any record in the window ⇔ the latest record in the range is in it).
/// </summary>
internal sealed record CovariatePart(int Index, CovariateSpec Spec, PartKind Kind, CovariateWindow Range, IReadOnlyList<CovariateWindow> Windows, EventSource? Events, IReadOnlyList<ConceptItem> Items);

/// <summary>
/// The covariate statement of a population: its SQL, parameters and parts. <see cref="Selects"/> are the branches of the
/// statement's UNION ALL with the part each reads (0: the consented rows), so that <see cref="SqlOf"/> can build the
/// statement of a subset of the parts (the same CTEs; PostgreSQL evaluates only those a branch references).
/// </summary>
internal sealed record CompiledCovariates(string Sql, IReadOnlyList<SqlParameter> Parameters, IReadOnlyList<CovariatePart> Parts)
{
    public string With { get; init; } = "";

    public IReadOnlyList<(int Part, string Sql)> Selects { get; init; } = [];

    /// <summary>The statement of the branches whose part is in <paramref name="parts"/>.</summary>
    public string SqlOf(IReadOnlySet<int> parts) =>
        With + string.Join("\nUNION ALL\n", Selects.Where(s => parts.Contains(s.Part)).Select(s => s.Sql));
}

/// <summary>
/// Builds the ONE statement that extracts every covariate of a settings object: the population comes in as two arrays
/// (person ids and time zeros, their order the row order) joined to the consent filter; every part reads person-level
/// tables only through the population's person_id, in windows that end at most the day before time zero. Each part
/// returns rows (part, r, k, k2, t, v). The names of the concepts they name come from <see cref="NamesSql"/>, a second
/// statement in the same transaction that reads the vocabulary only (no person-level table, so no consent filter).
/// </summary>
internal static class CovariateStatement
{
    /// <summary>The observation/measurement type of survey answers (PRO scores); excluded from measurement and observation.</summary>
    public const int PatientFilledSurvey = 32862;

    /// <summary>"All history" as a window start: about 270 years.</summary>
    public const int AllHistory = -100_000;

    /// <summary>The large-scale windows (FeatureExtraction's long, medium and short term), in days ending the day before time zero.</summary>
    public static IReadOnlyList<int> LargeScaleDays { get; } = [365, 180, 30];

    /// <summary>Very general SNOMED ancestors that would make a group of nearly every condition or procedure (not used as groups).</summary>
    public static IReadOnlyList<long> GroupRoots { get; } = [441840, 4274025, 4180628, 443783, 4322976, 4041436, 4028908, 4176729];

    private static EventSource? EventsOf(CovariateModality modality, bool device = false) => modality switch
    {
        CovariateModality.Condition => new("condition", "condition_occurrence", "condition_concept_id", "condition_start_date", "condition_occurrence_id", null,
            "a.domain_id = 'Condition' AND a.standard_concept IN ('S', 'C') AND a.concept_id <> ALL(@group_roots)"),
        CovariateModality.Drug => new("drug", "drug_exposure", "drug_concept_id", "drug_exposure_start_date", "drug_exposure_id", null,
            "(a.concept_class_id = 'Ingredient' OR a.vocabulary_id = 'ATC')"),
        CovariateModality.Procedure when device => new("device", "device_exposure", "device_concept_id", "device_exposure_start_date", "device_exposure_id", null,
            "a.domain_id = 'Device' AND a.standard_concept IN ('S', 'C') AND a.concept_id <> ALL(@group_roots)"),
        CovariateModality.Procedure => new("procedure", "procedure_occurrence", "procedure_concept_id", "procedure_date", "procedure_occurrence_id", null,
            "a.domain_id = 'Procedure' AND a.standard_concept IN ('S', 'C') AND a.concept_id <> ALL(@group_roots)"),
        CovariateModality.Observation => new("observation", "observation", "observation_concept_id", "observation_date", "observation_id",
            "AND e.observation_type_concept_id IS DISTINCT FROM @survey",
            "a.domain_id = 'Observation' AND a.standard_concept IN ('S', 'C') AND a.concept_id <> ALL(@group_roots)"),
        CovariateModality.Visit => new("visit", "visit_occurrence", "visit_concept_id", "visit_start_date", "visit_occurrence_id", null, null),
        _ => null,
    };

    /// <summary>The window a spec reads: its own (its end clipped to the day before time zero), else the modality's default.</summary>
    public static CovariateWindow RangeOf(CovariateSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var defaultStart = spec.Modality switch
        {
            CovariateModality.Variant or CovariateModality.GenomicScore => AllHistory,
            CovariateModality.Wearable => -90,
            _ => -365,
        };
        var end = Math.Min(spec.WindowEnd ?? -1, -1);
        var start = spec.WindowStart ?? defaultStart;
        if (start > end)
        {
            throw new ArgumentException($"Covariate '{spec.Name}': its window must start before the day before time zero ({start} > {end}).", nameof(spec));
        }

        return new CovariateWindow(start, end);
    }

    /// <summary>The binary windows of a large-scale event spec: 365, 180 and 30 days (those inside the range) and the range itself.</summary>
    public static IReadOnlyList<CovariateWindow> LargeScaleWindows(CovariateWindow range)
    {
        var windows = LargeScaleDays.Select(d => new CovariateWindow(range.End - d + 1, range.End)).Where(w => w.Start >= range.Start).ToList();
        if (!windows.Contains(range))
        {
            windows.Insert(0, range);
        }

        return windows;
    }

    public static IReadOnlyList<CovariatePart> Parts(CovariateSettings settings)
    {
        var parts = new List<CovariatePart>();
        foreach (var spec in settings.Specs)
        {
            var range = RangeOf(spec);
            var items = spec.Concepts.Where(c => !c.Exclude).ToList();
            void Add(PartKind kind, IReadOnlyList<CovariateWindow> windows, EventSource? events = null) =>
                parts.Add(new CovariatePart(parts.Count + 1, spec, kind, range, windows, events, spec.Concepts));
            switch (spec.Modality)
            {
                case CovariateModality.Demographics:
                    Add(PartKind.Demographics, []);
                    break;
                case CovariateModality.Condition or CovariateModality.Drug or CovariateModality.Procedure or CovariateModality.Observation or CovariateModality.Visit:
                    var sources = spec.Modality == CovariateModality.Procedure
                        ? new[] { EventsOf(spec.Modality)!, EventsOf(spec.Modality, device: true)! }
                        : [EventsOf(spec.Modality)!];
                    foreach (var source in sources)
                    {
                        if (items.Count > 0)
                        {
                            Add(PartKind.EventItems, [range], source);
                        }
                        else
                        {
                            Add(PartKind.Events, LargeScaleWindows(range), source);
                        }
                    }

                    if (spec.Modality == CovariateModality.Condition && items.Count == 0)
                    {
                        Add(PartKind.Charlson, [range with { Start = AllHistory }]);
                    }

                    break;
                case CovariateModality.Measurement or CovariateModality.Pro:
                    Add(items.Count > 0 ? PartKind.LatestItems : PartKind.Latest, [range]);
                    break;
                case CovariateModality.Variant:
                    Add(PartKind.Variants, [range]);
                    break;
                case CovariateModality.GenomicScore:
                    Add(PartKind.GenomicScores, [range]);
                    break;
                case CovariateModality.Wearable:
                    Add(PartKind.Wearables, [range]);
                    break;
                case CovariateModality.Claims:
                    Add(PartKind.Claims, [range]);
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(settings), spec.Modality, "unknown covariate modality");
            }
        }

        return parts;
    }

    public static CompiledCovariates Compile(string schemaName, IReadOnlyList<StudyPerson> persons, CovariateSettings settings)
    {
        ArgumentNullException.ThrowIfNull(persons);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentException.ThrowIfNullOrWhiteSpace(settings.Source, "settings.Source");
        ArgumentException.ThrowIfNullOrWhiteSpace(settings.Purpose, "settings.Purpose");
        var s = "\"" + SchemaName.Validate(schemaName) + "\"";
        var parts = Parts(settings);
        var parameters = new List<SqlParameter>
        {
            new("source", settings.Source),
            new("purpose", settings.Purpose),
            new("person_ids", persons.Select(p => p.PersonId).ToArray()),
            new("time_zero", persons.Select(p => p.TimeZero).ToArray()),
            new("survey", PatientFilledSurvey),
            new("group_roots", GroupRoots.ToArray()),
        };
        var ctes = new List<string>
        {
            // The population, its row order, and consent for the purpose (persons who withdrew since the cohort was
            // built have no covariates and are not counted).
            $"""
            pop AS MATERIALIZED (
                SELECT CAST(u.ord AS integer) - 1 AS r, u.person_id, u.tz
                FROM unnest(CAST(@person_ids AS bigint[]), CAST(@time_zero AS date[])) WITH ORDINALITY AS u(person_id, tz, ord)
                WHERE u.person_id IN (SELECT c.person_id FROM {SubgroupCompiler.ConsentFilter} c)
            )
            """,
        };
        var selects = new List<string> { "SELECT 0 AS part, p.r, CAST(NULL AS bigint) AS k, CAST(NULL AS bigint) AS k2, CAST(NULL AS text) AS t, CAST(NULL AS double precision) AS v FROM pop p" };
        var owners = new List<int> { 0 };
        foreach (var part in parts)
        {
            while (owners.Count < selects.Count)
            {
                owners.Add(part.Index - 1);
            }

            var n = part.Index.ToString(CultureInfo.InvariantCulture);
            var start = "@p" + n + "_start";
            var end = "@p" + n + "_end";
            parameters.Add(new("p" + n + "_start", part.Windows.Count > 0 ? part.Windows.Min(w => w.Start) : part.Range.Start));
            parameters.Add(new("p" + n + "_end", part.Range.End));
            if (part.Items.Count > 0)
            {
                var included = part.Items.Where(i => !i.Exclude).ToList();
                var excluded = part.Items.Where(i => i.Exclude).ToList();
                parameters.Add(new("p" + n + "_ids", included.Select(i => (long)i.Id).ToArray()));
                parameters.Add(new("p" + n + "_desc", included.Select(i => i.Descendants).ToArray()));
                parameters.Add(new("p" + n + "_xids", excluded.Select(i => (long)i.Id).ToArray()));
                parameters.Add(new("p" + n + "_xdesc", excluded.Select(i => i.Descendants).ToArray()));
                ctes.Add($"""
                    i{n} AS MATERIALIZED (
                        SELECT x.item, x.k FROM (
                            SELECT CAST(u.ord AS bigint) AS item, u.id AS k
                            FROM unnest(CAST(@p{n}_ids AS bigint[]), CAST(@p{n}_desc AS boolean[])) WITH ORDINALITY AS u(id, d, ord)
                            UNION
                            SELECT CAST(u.ord AS bigint), CAST(ca.descendant_concept_id AS bigint)
                            FROM unnest(CAST(@p{n}_ids AS bigint[]), CAST(@p{n}_desc AS boolean[])) WITH ORDINALITY AS u(id, d, ord)
                            JOIN {s}.concept_ancestor ca ON ca.ancestor_concept_id = u.id AND u.d
                        ) x
                        WHERE x.k NOT IN (
                            SELECT v.id FROM unnest(CAST(@p{n}_xids AS bigint[])) AS v(id)
                            UNION
                            SELECT CAST(ca.descendant_concept_id AS bigint)
                            FROM unnest(CAST(@p{n}_xids AS bigint[]), CAST(@p{n}_xdesc AS boolean[])) AS v(id, d)
                            JOIN {s}.concept_ancestor ca ON ca.ancestor_concept_id = v.id AND v.d)
                    )
                    """);
            }

            switch (part.Kind)
            {
                case PartKind.Demographics:
                    ctes.Add($"""
                        d{n} AS (
                            SELECT p.r, d.k, d.k2, CAST(extract(year FROM p.tz) AS double precision) - pe.year_of_birth AS v
                            FROM pop p JOIN {s}.person pe ON pe.person_id = p.person_id
                            CROSS JOIN LATERAL (VALUES (CAST(pe.gender_concept_id AS bigint), CAST(1 AS bigint)),
                                                       (CAST(pe.race_concept_id AS bigint), CAST(2 AS bigint)),
                                                       (CAST(pe.ethnicity_concept_id AS bigint), CAST(3 AS bigint))) AS d(k, k2)
                        )
                        """);
                    selects.Add($"SELECT {n}, r, k, k2, CAST(NULL AS text), v FROM d{n}");
                    break;
                case PartKind.Events:
                {
                    var e = part.Events!;
                    ctes.Add($"""
                        e{n} AS MATERIALIZED (
                            SELECT p.r, x.k, x.o FROM pop p CROSS JOIN LATERAL (
                                SELECT CAST(e.{e.Concept} AS bigint) AS k, max(e.{e.Date}) - p.tz AS o
                                FROM {s}.{e.Table} e
                                WHERE e.person_id = p.person_id AND e.{e.Date} BETWEEN p.tz + {start} AND p.tz + {end} AND e.{e.Concept} <> 0 {e.Filter}
                                GROUP BY e.{e.Concept}
                                OFFSET 0) x
                        )
                        """);
                    selects.Add($"SELECT {n}, r, k, CAST(0 AS bigint), CAST(NULL AS text), CAST(o AS double precision) FROM e{n}");
                    if (e.GroupRule is not null)
                    {
                        // A group holds its own concept and its descendants; a group that would hold only its own
                        // concept among the recorded ones is the concept's covariate again and is left out.
                        ctes.Add($"""
                            ga{n} AS MATERIALIZED (
                                SELECT CAST(ca.descendant_concept_id AS bigint) AS k, CAST(ca.ancestor_concept_id AS bigint) AS g
                                FROM {s}.concept_ancestor ca JOIN {s}.concept a ON a.concept_id = ca.ancestor_concept_id
                                WHERE ca.descendant_concept_id IN (SELECT DISTINCT k FROM e{n}) AND {e.GroupRule}
                            ),
                            g{n} AS MATERIALIZED (
                                SELECT k, g FROM ga{n} WHERE g IN (SELECT g FROM ga{n} WHERE k <> g)
                            )
                            """);
                        selects.Add($"SELECT {n}, e.r, g.g, CAST(1 AS bigint), CAST(NULL AS text), CAST(max(e.o) AS double precision) FROM e{n} e JOIN g{n} g ON g.k = e.k GROUP BY e.r, g.g");
                    }

                    break;
                }

                case PartKind.EventItems:
                {
                    var e = part.Events!;
                    selects.Add($"""
                        SELECT {n}, p.r, i.item, CAST(0 AS bigint), CAST(NULL AS text), CAST(max(x.o) AS double precision)
                        FROM pop p CROSS JOIN LATERAL (
                            SELECT CAST(e.{e.Concept} AS bigint) AS k, max(e.{e.Date}) - p.tz AS o
                            FROM {s}.{e.Table} e
                            WHERE e.person_id = p.person_id AND e.{e.Date} BETWEEN p.tz + {start} AND p.tz + {end}
                              AND e.{e.Concept} IN (SELECT k FROM i{n}) {e.Filter}
                            GROUP BY e.{e.Concept}
                            OFFSET 0) x
                        JOIN i{n} i ON i.k = x.k
                        GROUP BY p.r, i.item
                        """);
                    break;
                }

                case PartKind.Latest or PartKind.LatestItems:
                {
                    var items = part.Kind == PartKind.LatestItems;
                    var pro = part.Spec.Modality == CovariateModality.Pro;
                    var key = items ? "i.item" : "a.k";
                    var join = items ? $"JOIN i{n} i ON i.k = a.k" : "";
                    var type = pro ? "= @survey" : "IS DISTINCT FROM @survey";
                    var answers = $"""
                        SELECT CAST(me.measurement_concept_id AS bigint) AS k, CAST(coalesce(me.unit_concept_id, 0) AS bigint) AS u,
                               CAST(me.value_as_number AS double precision) AS v, me.measurement_date AS d, CAST(me.measurement_id AS bigint) AS id
                        FROM {s}.measurement me
                        WHERE me.person_id = p.person_id AND me.measurement_date BETWEEN p.tz + {start} AND p.tz + {end}
                          AND me.value_as_number IS NOT NULL AND me.measurement_concept_id <> 0 AND me.measurement_type_concept_id {type}
                        """;
                    if (pro)
                    {
                        answers += $"""

                            UNION ALL
                            SELECT CAST(o.observation_concept_id AS bigint), CAST(coalesce(o.unit_concept_id, 0) AS bigint),
                                   CAST(o.value_as_number AS double precision), o.observation_date, CAST(o.observation_id AS bigint)
                            FROM {s}.observation o
                            WHERE o.person_id = p.person_id AND o.observation_date BETWEEN p.tz + {start} AND p.tz + {end}
                              AND o.value_as_number IS NOT NULL AND o.observation_concept_id <> 0 AND o.observation_type_concept_id = @survey
                            """;
                    }

                    ctes.Add($"""
                        l{n} AS (
                            SELECT p.r, x.k, x.u, x.v FROM pop p CROSS JOIN LATERAL (
                                SELECT DISTINCT ON ({key}, a.u) {key} AS k, a.u, a.v
                                FROM ({Indent(answers, 8)}) a {join}
                                ORDER BY {key}, a.u, a.d DESC, a.id DESC
                                OFFSET 0) x
                        )
                        """);
                    selects.Add($"SELECT {n}, r, k, u, CAST(NULL AS text), v FROM l{n}");
                    break;
                }

                case PartKind.Variants:
                    selects.Add($"""
                        SELECT {n}, p.r, CAST(NULL AS bigint), CAST(NULL AS bigint), x.t, CAST(1 AS double precision)
                        FROM pop p CROSS JOIN LATERAL (
                            SELECT DISTINCT vo.gene_symbol || '/' || vo.clinical_significance AS t
                            FROM {s}.variant_occurrence vo
                            WHERE vo.person_id = p.person_id AND vo.gene_symbol IS NOT NULL
                              AND vo.clinical_significance IN ('pathogenic', 'likely_pathogenic')
                              AND (vo.sample_date IS NULL OR vo.sample_date BETWEEN p.tz + {start} AND p.tz + {end})
                            OFFSET 0) x
                        """);
                    break;
                case PartKind.GenomicScores:
                    selects.Add($"""
                        SELECT {n}, p.r, CAST(NULL AS bigint), CAST(NULL AS bigint), x.t, x.v
                        FROM pop p CROSS JOIN LATERAL (
                            SELECT DISTINCT ON (gs.score_id) gs.score_id || chr(31) || coalesce(gs.score_name, gs.score_id) AS t,
                                   CAST(gs.percentile AS double precision) AS v
                            FROM {s}.genomic_score gs
                            WHERE gs.person_id = p.person_id AND gs.percentile IS NOT NULL
                              AND (gs.measured_date IS NULL OR gs.measured_date BETWEEN p.tz + {start} AND p.tz + {end})
                            ORDER BY gs.score_id, gs.measured_date DESC NULLS LAST, gs.genomic_score_id DESC
                            OFFSET 0) x
                        """);
                    break;
                case PartKind.Wearables:
                    selects.Add($"""
                        SELECT {n}, p.r, CAST(NULL AS bigint), m.code, CAST(NULL AS text), m.v
                        FROM pop p CROSS JOIN LATERAL (
                            SELECT CAST(count(*) AS double precision) AS days, CAST(avg(d.steps) AS double precision) AS steps,
                                   CAST(avg(d.hr) AS double precision) AS hr
                            FROM (SELECT wd.measurement_date, avg(wd.steps) AS steps, avg(wd.resting_hr) AS hr
                                  FROM {s}.wearable_daily wd
                                  WHERE wd.person_id = p.person_id AND wd.measurement_date BETWEEN p.tz + {start} AND p.tz + {end}
                                    AND wd.wear_minutes > 0
                                  GROUP BY wd.measurement_date) d
                            OFFSET 0) w
                        CROSS JOIN LATERAL (VALUES (CAST(1 AS bigint), w.days), (CAST(2 AS bigint), w.steps), (CAST(3 AS bigint), w.hr)) AS m(code, v)
                        WHERE w.days > 0 AND m.v IS NOT NULL
                        """);
                    break;
                case PartKind.Claims:
                    ctes.Add($"""
                        c{n} AS (
                            SELECT p.r, x.k, x.k2, x.v FROM pop p CROSS JOIN LATERAL (
                                SELECT CAST(NULL AS bigint) AS k, CAST(1 AS bigint) AS k2, CAST(sum(costed.total_paid) AS double precision) AS v
                                FROM (
                                    SELECT c.total_paid
                                    FROM {s}.visit_occurrence vo
                                    JOIN {s}.cost c ON c.cost_event_id = vo.visit_occurrence_id AND c.cost_domain_id = 'Visit'
                                    WHERE vo.person_id = p.person_id AND vo.visit_start_date BETWEEN p.tz + {start} AND p.tz + {end}
                                    UNION ALL
                                    SELECT c.total_paid
                                    FROM {s}.drug_exposure de
                                    JOIN {s}.cost c ON c.cost_event_id = de.drug_exposure_id AND c.cost_domain_id = 'Drug'
                                    WHERE de.person_id = p.person_id AND de.drug_exposure_start_date BETWEEN p.tz + {start} AND p.tz + {end}
                                ) costed
                                HAVING sum(costed.total_paid) IS NOT NULL
                                UNION ALL
                                SELECT CAST(vo.visit_concept_id AS bigint), CAST(2 AS bigint), CAST(count(*) AS double precision)
                                FROM {s}.visit_occurrence vo
                                WHERE vo.person_id = p.person_id AND vo.visit_start_date BETWEEN p.tz + {start} AND p.tz + {end}
                                GROUP BY vo.visit_concept_id
                                OFFSET 0) x
                        )
                        """);
                    selects.Add($"SELECT {n}, r, k, k2, CAST(NULL AS text), v FROM c{n}");
                    break;
                case PartKind.Charlson:
                    parameters.Add(new("p" + n + "_cat", CharlsonIndex.Categories.SelectMany(c => c.Ancestors.Select(_ => c.Id)).ToArray()));
                    parameters.Add(new("p" + n + "_anc", CharlsonIndex.Categories.SelectMany(c => c.Ancestors).ToArray()));
                    ctes.Add($"""
                        cc{n} AS (
                            SELECT u.cat, u.anc AS k FROM unnest(CAST(@p{n}_cat AS integer[]), CAST(@p{n}_anc AS bigint[])) AS u(cat, anc)
                            UNION
                            SELECT u.cat, CAST(ca.descendant_concept_id AS bigint)
                            FROM unnest(CAST(@p{n}_cat AS integer[]), CAST(@p{n}_anc AS bigint[])) AS u(cat, anc)
                            JOIN {s}.concept_ancestor ca ON ca.ancestor_concept_id = u.anc
                        )
                        """);
                    selects.Add($"""
                        SELECT {n}, p.r, CAST(x.cat AS bigint), CAST(NULL AS bigint), CAST(NULL AS text), CAST(1 AS double precision)
                        FROM pop p CROSS JOIN LATERAL (
                            SELECT DISTINCT cc.cat
                            FROM {s}.condition_occurrence co JOIN cc{n} cc ON cc.k = co.condition_concept_id
                            WHERE co.person_id = p.person_id AND co.condition_start_date BETWEEN p.tz + {start} AND p.tz + {end}
                            OFFSET 0) x
                        """);
                    break;
                default:
                    throw new InvalidOperationException(part.Kind.ToString());
            }
        }

        while (owners.Count < selects.Count)
        {
            owners.Add(parts[^1].Index);
        }

        var with = "WITH " + string.Join(",\n", ctes) + "\n";
        var sql = new StringBuilder(with);
        sql.Append(string.Join("\nUNION ALL\n", selects));
        return new CompiledCovariates(sql.ToString(), parameters, parts)
        {
            With = with,
            Selects = [.. owners.Zip(selects)],
        };
    }

    /// <summary>The names of concepts (vocabulary only: it reads no person-level table).</summary>
    public static string NamesSql(string schemaName) =>
        $"SELECT CAST(c.concept_id AS bigint) AS id, c.concept_name AS name FROM \"{SchemaName.Validate(schemaName)}\".concept c WHERE c.concept_id = ANY(@ids)";

    private static string Indent(string sql, int spaces) => sql.ReplaceLineEndings("\n" + new string(' ', spaces));
}
