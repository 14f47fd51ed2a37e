using System.Globalization;
using System.Text;
using RwePortal.Warehouse.Schema;

namespace RwePortal.Warehouse.Cohorts;

/// <summary>One parameter of a compiled statement.</summary>
public sealed record SqlParameter(string Name, object Value);

/// <summary>
/// A definition compiled for one source: one statement and its parameters, and the labels of its attrition steps
/// (the consented population, then one per top-level criterion).
/// </summary>
public sealed record CompiledSubgroup(string Sql, IReadOnlyList<SqlParameter> Parameters, IReadOnlyList<string> Steps);

/// <summary>
/// Turns a validated <see cref="SubgroupDefinition"/> into ONE parameterized statement over a source's cdm schema.
/// No text of the definition ever becomes SQL text: the only identifier written is the schema name, validated by
/// <see cref="SchemaName"/> and quoted; every value is a parameter. Person-level tables are reached only through
/// <c>person_id</c> of the population row; concept sets are expanded through <c>concept_ancestor</c>; the consent filter
/// <c>gov.consented_persons(@source, @purpose)</c> is part of every statement. The statement returns one row:
/// persons (with an index event, before consent), consented persons, the consented persons left after each
/// top-level criterion, and the final count before consent (for the number consent removed).
/// </summary>
public static partial class SubgroupCompiler
{
    /// <summary>
    /// The consent filter (persons who consent today) every emitted statement contains: the body over the CDM tables
    /// joins it; tests scan for it. Other compilers join it on person_id the same way.
    /// </summary>
    public const string ConsentFilter = "gov.consented_persons(@source, @purpose)";

    /// <summary>The same consent as the source's bitmap (decision 0740), which the body over the pre-aggregations reads; in every statement.</summary>
    public const string ConsentBitmap = "gov.consent_bitmap(@source, @purpose)";

    /// <param name="definition">A definition <see cref="SubgroupDefinitionParser"/> accepted.</param>
    /// <param name="schemaName">The source's schema name from the registry (validated again here).</param>
    /// <param name="source">The source's registered name, for the consent filter.</param>
    /// <param name="purpose">The consent purpose the count is for.</param>
    public static CompiledSubgroup Compile(SubgroupDefinition definition, string schemaName, string source, string purpose)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        ArgumentException.ThrowIfNullOrWhiteSpace(purpose);
        var schema = "\"" + SchemaName.Validate(schemaName) + "\"";
        return new Emitter(schema, source, purpose).Emit(definition, members: false);
    }

    /// <summary>
    /// The same definition as a statement of its members: one row (person_id, index_date) per consented person who
    /// meets every criterion (index_date is NULL without an index event). Characterization and comparison read these.
    /// </summary>
    public static CompiledSubgroup CompileMembers(SubgroupDefinition definition, string schemaName, string source, string purpose)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        ArgumentException.ThrowIfNullOrWhiteSpace(purpose);
        var schema = "\"" + SchemaName.Validate(schemaName) + "\"";
        return new Emitter(schema, source, purpose).Emit(definition, members: true);
    }

    /// <summary>
    /// The count alone, without attrition (decision 0745): one row (count, matched_before_consent). Driven from the
    /// criterion <paramref name="driver"/> when given (one of <see cref="CountDrivers"/>, chosen as the smallest).
    /// </summary>
    public static CompiledSubgroup CompileCount(SubgroupDefinition definition, string schemaName, string source, string purpose, int? driver = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        ArgumentException.ThrowIfNullOrWhiteSpace(purpose);
        var schema = "\"" + SchemaName.Validate(schemaName) + "\"";
        return new Emitter(schema, source, purpose).EmitCount(definition, driver);
    }

    /// <summary>
    /// The top-level criteria a count could be driven from, each as a statement of its rows with its parameters: the
    /// caller sizes them by the planner's estimate (EXPLAIN, no row is read) and passes the smallest to <see cref="CompileCount"/>.
    /// </summary>
    public static IReadOnlyList<(int Criterion, CompiledSubgroup Rows)> CountDrivers(SubgroupDefinition definition, string schemaName)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var schema = "\"" + SchemaName.Validate(schemaName) + "\"";
        var result = new List<(int, CompiledSubgroup)>();
        // One emitter per candidate: each statement carries only its own parameters.
        var count = new Emitter(schema, "-", "-").Drivers(definition, only: -1).Count;
        for (var i = 0; i < count; i++)
        {
            var emitter = new Emitter(schema, "-", "-");
            var (criterion, sql) = emitter.Drivers(definition, only: i)[i];
            result.Add((criterion, new CompiledSubgroup(sql!, emitter.Parameters, [])));
        }

        return result;
    }

    /// <summary>The attrition step label of a top-level node: its label, or its kind and path.</summary>
    public static string Describe(CriterionNode node) => node.Label ?? node switch
    {
        AllNode all => $"{node.Path}: all of {all.Nodes.Count}",
        AnyNode any => $"{node.Path}: any of {any.Nodes.Count}",
        NotNode => $"{node.Path}: not",
        AgeCriterion => $"{node.Path}: age",
        PersonAttributeCriterion p => $"{node.Path}: {p.Attribute.ToString().ToLowerInvariant()}",
        EventCriterion e => $"{node.Path}: {e.Domain.ToString().ToLowerInvariant()}",
        VariantCriterion => $"{node.Path}: variant",
        GenomicScoreCriterion => $"{node.Path}: genomic score",
        WearableCriterion => $"{node.Path}: wearable",
        EnrollmentCriterion => $"{node.Path}: enrollment",
        AdherenceCriterion => $"{node.Path}: adherence",
        _ => node.Path,
    };

    /// <summary>Where each event domain lives: table, concept column, date column, value and unit columns (fixed text).</summary>
    private sealed record EventTable(string Table, string Concept, string Date, string? Value, string? Unit, string Visit = "visit_occurrence_id");

    private static EventTable[] TablesOf(EventDomain domain) => domain switch
    {
        EventDomain.Condition => [new("condition_occurrence", "condition_concept_id", "condition_start_date", null, null)],
        EventDomain.Drug => [new("drug_exposure", "drug_concept_id", "drug_exposure_start_date", null, null)],
        EventDomain.Procedure => [new("procedure_occurrence", "procedure_concept_id", "procedure_date", null, null)],
        EventDomain.Observation => [new("observation", "observation_concept_id", "observation_date", "value_as_number", "unit_concept_id")],
        EventDomain.Measurement => [new("measurement", "measurement_concept_id", "measurement_date", "value_as_number", "unit_concept_id")],
        EventDomain.Visit => [new("visit_occurrence", "visit_concept_id", "visit_start_date", null, null)],
        EventDomain.Pro =>
        [
            new("observation", "observation_concept_id", "observation_date", "value_as_number", "unit_concept_id"),
            new("measurement", "measurement_concept_id", "measurement_date", "value_as_number", "unit_concept_id"),
        ],
        _ => throw new ArgumentOutOfRangeException(nameof(domain), domain, null),
    };

    private sealed partial class Emitter(string schema, string source, string purpose)
    {
        [System.Text.RegularExpressions.GeneratedRegex(@"\bb\.", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
        private static partial System.Text.RegularExpressions.Regex PopulationColumn();

        private readonly List<SqlParameter> _parameters = [new("source", source), new("purpose", purpose)];
        private readonly List<string> _conceptSets = [];

        /// <summary>The value parameters added so far (without source and purpose).</summary>
        public IReadOnlyList<SqlParameter> Parameters => _parameters.Skip(2).ToList();

        /// <summary>
        /// Two bodies: <c>f_</c> reads the consent bitmap and the source's pre-aggregations (agg_event) wherever a
        /// criterion can be answered from them, <c>s_</c> reads the consent filter and only the CDM tables. Exactly one runs: the other's
        /// branch is cut by a one-time filter on <c>ready</c> (the aggregates are fresh), so its CTEs are never read.
        /// </summary>
        public CompiledSubgroup Emit(SubgroupDefinition definition, bool members)
        {
            var steps = new List<string> { definition.Index is not null ? "index event, consented" : "all persons, consented" };
            steps.AddRange(definition.Criteria.Select(Describe));
            var ctes = CommonCtes(personWords: false);
            var fast = Body(definition, "f", aggregates: true, ctes);
            var slow = Body(definition, "s", aggregates: false, ctes);

            var sql = new StringBuilder("WITH");
            var all = _conceptSets.Select((set, i) => $"\ncs{i.ToString(CultureInfo.InvariantCulture)} AS MATERIALIZED (\n{set}\n)").Concat(ctes);
            sql.Append(string.Join(",", all));
            string Select(string prefix, IReadOnlyList<string> flags)
            {
                var last = flags.Count == 0 ? "true" : flags[^1];
                if (members)
                {
                    return $"SELECT person_id, index_date\nFROM {prefix}_flags\nWHERE consented AND {last}";
                }

                var counts = new StringBuilder("SELECT count(*) AS persons,\n       count(*) FILTER (WHERE consented) AS consented");
                for (var i = 0; i < flags.Count; i++)
                {
                    counts.Append(CultureInfo.InvariantCulture, $",\n       count(*) FILTER (WHERE consented AND {flags[i]}) AS step{i + 1}");
                }

                counts.Append(CultureInfo.InvariantCulture, $",\n       count(*) FILTER (WHERE {last}) AS matched_before_consent\nFROM {prefix}_flags");
                return counts.ToString();
            }

            sql.Append(CultureInfo.InvariantCulture,
                $"\nSELECT * FROM (\n{Select("f", fast)}\n) f WHERE (SELECT ok FROM ready)\nUNION ALL\nSELECT * FROM (\n{Select("s", slow)}\n) s WHERE NOT (SELECT ok FROM ready)");
            return new CompiledSubgroup(sql.ToString(), _parameters, steps);
        }

        /// <summary>
        /// The CTEs every statement starts with: <c>ready</c> (the aggregated body may run: the summaries are fresh and,
        /// for a count from words, hold the person words), the consent words and the consent mode.
        /// </summary>
        private List<string> CommonCtes(bool personWords)
        {
            var schemaName = Parameter(schema.Trim('"'));
            var persons = personWords
                ? $" AND EXISTS (SELECT 1 FROM {schema}.agg_event_words pw WHERE pw.domain = 0 AND pw.concept_id = 0)"
                : "";
            return
            [
                $"\nready AS MATERIALIZED (\n    SELECT EXISTS (SELECT 1 FROM gov.warehouse_aggregates a WHERE a.schema_name = {schemaName} AND a.fresh){persons} AS ok\n)",
                // Consent: the source's bitmap for the purpose as it stands today (decision 0740), read once per
                // statement; a person consents when their bit differs from the mode (0: bits are grants; 1: bits are withdrawals).
                $"\nconsent_words AS MATERIALIZED (\n    SELECT cb.word, cb.bits FROM {ConsentBitmap} cb\n)",
                "\nconsent_mode AS MATERIALIZED (\n    SELECT coalesce(bool_or(w.bits = 1), false) AS exclude FROM consent_words w WHERE w.word IS NULL\n)",
            ];
        }

        /// <summary>
        /// The count alone (decision 0745): one row, <c>count</c> (consented persons who match) and
        /// <c>matched_before_consent</c>, with no attrition, so the criteria need not run in the user's order. The
        /// aggregated body counts words when every criterion is a person set and there is no index; drives from the
        /// criterion <paramref name="driver"/> (a small person set the caller chose) when given, asking the index and
        /// every other criterion per person; and otherwise is the funnel's aggregated body. The CDM-table body is the funnel's.
        /// </summary>
        public CompiledSubgroup EmitCount(SubgroupDefinition definition, int? driver)
        {
            var words = definition.Index is null && WordsEligible(definition);
            var ctes = CommonCtes(personWords: words);
            var fast = words ? WordsCount(definition, ctes)
                : driver is { } d ? DrivenCount(definition, d, ctes)
                : CountSelect("f", Body(definition, "f", aggregates: true, ctes));
            var slow = CountSelect("s", Body(definition, "s", aggregates: false, ctes));
            var sql = new StringBuilder("WITH");
            var all = _conceptSets.Select((set, i) => $"\ncs{i.ToString(CultureInfo.InvariantCulture)} AS MATERIALIZED (\n{set}\n)").Concat(ctes);
            sql.Append(string.Join(",", all));
            sql.Append(CultureInfo.InvariantCulture,
                $"\nSELECT * FROM (\n{fast}\n) f WHERE (SELECT ok FROM ready)\nUNION ALL\nSELECT * FROM (\n{slow}\n) s WHERE NOT (SELECT ok FROM ready)");
            return new CompiledSubgroup(sql.ToString(), _parameters, ["count"]);
        }

        private static string CountSelect(string prefix, List<string> flags)
        {
            var last = flags.Count == 0 ? "true" : flags[^1];
            return $"SELECT count(*) FILTER (WHERE consented AND {last}) AS count, count(*) FILTER (WHERE {last}) AS matched_before_consent\nFROM {prefix}_flags";
        }

        /// <summary>
        /// Top-level criteria a count can start from: a variant or genomic score criterion without index-relative
        /// window, as the statement of its rows (to be sized by the planner's estimate, never run).
        /// </summary>
        /// <param name="definition">The definition.</param>
        /// <param name="only">Writes the statement (and adds the parameters) of this candidate only; the others are listed without statement.</param>
        public List<(int Criterion, string? Sql)> Drivers(SubgroupDefinition definition, int? only)
        {
            var drivers = new List<(int, string?)>();
            if (definition.Index is null && WordsEligible(definition))
            {
                return drivers;
            }

            for (var i = 0; i < definition.Criteria.Count; i++)
            {
                var write = only is null || only == drivers.Count;
                switch (definition.Criteria[i])
                {
                    case VariantCriterion v when v.Window is not { IsRelative: true } && v.Count.Min >= 1:
                        drivers.Add((i, write ? $"SELECT v.person_id FROM {schema}.variant_occurrence v WHERE {VariantFilter(v, "true")}" : null));
                        break;
                    case GenomicScoreCriterion g when g.Window is not { IsRelative: true }:
                        drivers.Add((i, write ? $"SELECT g.person_id FROM {schema}.genomic_score g WHERE {ScoreFilter(g, "true")}" : null));
                        break;
                }
            }

            return drivers;
        }

        /// <summary>Every top-level criterion is a person set (or the negation of one) that does not depend on the population row.</summary>
        private bool WordsEligible(SubgroupDefinition definition)
        {
            var parameters = _parameters.Count;
            var conceptSets = _conceptSets.Count;
            try
            {
                return definition.Criteria.Count > 0 && definition.Criteria.All(node => WordSet(node, "x", "x") is not null);
            }
            finally
            {
                _parameters.RemoveRange(parameters, _parameters.Count - parameters);
                _conceptSets.RemoveRange(conceptSets, _conceptSets.Count - conceptSets);
            }
        }

        /// <summary>
        /// A top-level criterion as words of 64 persons: its CTEs and the expression of a word's bits over the set's row
        /// <paramref name="alias"/> (the complement for <c>not</c>); null when it is not a person set independent of the index.
        /// </summary>
        private (List<string> Ctes, string Bits)? WordSet(CriterionNode node, string name, string alias)
        {
            var negated = node is NotNode;
            var inner = node is NotNode not ? not.Node : node;
            if (inner is NotNode || SetForm(inner, name, alias) is not { } set)
            {
                return null;
            }

            var ctes = new List<string> { set.Cte };
            if (!set.Words)
            {
                if (PopulationColumn().IsMatch(set.Flag))
                {
                    return null;
                }

                // A set of person rows with its flag: the persons it holds, folded into words.
                ctes.Add($"""

                    {name}_w AS MATERIALIZED (
                        SELECT {alias}.person_id >> 6 AS word, bit_or(CAST(1 AS bigint) << CAST({alias}.person_id & 63 AS integer)) AS bits
                        FROM {name} {alias}
                        WHERE {set.Flag}
                        GROUP BY {alias}.person_id >> 6
                    )
                    """);
            }

            var bits = $"coalesce({alias}.bits, 0)";
            return (ctes, negated ? $"~{bits}" : bits);
        }

        /// <summary>
        /// The count from words alone: the person words (every person of the source) AND each criterion's words (or
        /// their complement), against the consent words; popcounts summed. No population row is built.
        /// </summary>
        private string WordsCount(SubgroupDefinition definition, List<string> ctes)
        {
            var joins = new StringBuilder();
            var matched = new StringBuilder("pw.bits");
            for (var i = 0; i < definition.Criteria.Count; i++)
            {
                var number = (i + 1).ToString(CultureInfo.InvariantCulture);
                var (setCtes, bits) = WordSet(definition.Criteria[i], $"f_k{number}", $"k{number}")!.Value;
                ctes.AddRange(setCtes);
                var table = setCtes.Count > 1 ? $"f_k{number}_w" : $"f_k{number}";
                joins.Append(CultureInfo.InvariantCulture, $"\n          LEFT JOIN {table} k{number} ON k{number}.word = pw.word");
                matched.Append(CultureInfo.InvariantCulture, $" & {bits}");
            }

            return $"""
                SELECT CAST(coalesce(sum(bit_count(CAST(x.m & x.c AS bit(64)))), 0) AS bigint) AS count,
                       CAST(coalesce(sum(bit_count(CAST(x.m AS bit(64)))), 0) AS bigint) AS matched_before_consent
                FROM (SELECT {matched} AS m,
                             CASE WHEN cm.exclude THEN ~coalesce(cw.bits, 0) ELSE coalesce(cw.bits, 0) END AS c
                      FROM {schema}.agg_event_words pw
                      CROSS JOIN consent_mode cm
                      LEFT JOIN consent_words cw ON cw.word = pw.word{joins}
                      WHERE pw.domain = 0 AND pw.concept_id = 0) x
                """;
        }

        /// <summary>
        /// The count driven from one small person set: its persons, their index event looked up per person (the
        /// summary's covering index, one probe per concept), consent from the words, then every other criterion per
        /// person over the CDM tables, cheapest first, each only for those who passed the ones before.
        /// </summary>
        private string DrivenCount(SubgroupDefinition definition, int driver, List<string> ctes)
        {
            var number = (driver + 1).ToString(CultureInfo.InvariantCulture);
            var set = SetForm(definition.Criteria[driver], $"f_k{number}", $"k{number}")
                ?? throw new ArgumentException($"criterion {driver} is not a person set", nameof(driver));
            ctes.Add(set.Cte);
            var hasIndex = definition.Index is not null;
            var index = "";
            if (hasIndex)
            {
                index = $"\n          CROSS JOIN LATERAL ({PersonIndexSql(definition.Index!)}) i";
            }

            ctes.Add(
                $"""

                f_population AS MATERIALIZED (
                    SELECT b.*, ((coalesce(cw.bits, 0) >> CAST(b.person_id & 63 AS integer)) & 1 = 1) <> m.exclude AS consented
                    FROM (SELECT b.person_id, b.year_of_birth, b.gender_concept_id, b.race_concept_id, b.ethnicity_concept_id, {(hasIndex ? "i.index_date" : "CAST(NULL AS date) AS index_date")}
                          FROM (SELECT k{number}.person_id FROM f_k{number} k{number} WHERE {set.Flag}) d
                          JOIN {schema}.person b ON b.person_id = d.person_id{index}{(hasIndex ? "\n          WHERE i.index_date IS NOT NULL" : "")}) b
                    CROSS JOIN consent_mode m
                    LEFT JOIN consent_words cw ON cw.word = b.person_id >> 6
                )
                """);
            var laterals = new StringBuilder();
            var previous = "true";
            var others = definition.Criteria.Where((_, i) => i != driver).OrderBy(Cost).ToList();
            for (var i = 0; i < others.Count; i++)
            {
                var step = (i + 1).ToString(CultureInfo.InvariantCulture);
                var expression = Expression(others[i]);
                laterals.Append(CultureInfo.InvariantCulture,
                    $"\n    CROSS JOIN LATERAL (SELECT {(previous == "true" ? expression : $"CASE WHEN {previous} THEN {expression} ELSE false END")} AS ok OFFSET 0) s{step}");
                previous = $"s{step}.ok";
            }

            ctes.Add($"\nf_flags AS (\n    SELECT b.consented, {previous} AS c\n    FROM f_population b{laterals}\n)");
            return CountSelect("f", ["c"]);
        }

        /// <summary>One person's index date (NULL without the index event), over the person row b: from the summary when it can answer, else the CDM tables.</summary>
        private string PersonIndexSql(EventCriterion index)
        {
            var aggregate = index.Occurrence == Occurrence.Last ? "max" : "min";
            string dates;
            if (index.Value is null && index.VisitTypes is not { Count: > 0 })
            {
                var set = ConceptSet(index.Concepts);
                var units = index.Units.Count > 0 ? $" AND a.unit_concept_id = ANY({Parameter(index.Units.ToArray())})" : "";
                var column = index.Occurrence == Occurrence.Last ? "a.last_date" : "a.first_date";
                // An array of the set's concepts, so that the covering index is probed per concept for this person.
                dates = $"SELECT {aggregate}({column}) AS d FROM {schema}.agg_event a WHERE a.domain IN ({DomainCodes(index.Domain)}) " +
                        $"AND a.concept_id = ANY(ARRAY(SELECT concept_id FROM {set})) AND a.person_id = b.person_id{units}";
            }
            else
            {
                dates = $"SELECT {aggregate}(e.d) AS d FROM {Rows(index.Domain, correlated: true)} e WHERE {EventFilter(index, "e")}";
            }

            var window = index.Window is { } w ? WindowCondition(w, "x.d") : "";
            return $"SELECT CASE WHEN true{window} THEN x.d END AS index_date FROM ({dates}) x";
        }

        /// <summary>
        /// One body: the population (index persons or all persons) with its consent flag and the persons sets of the
        /// criteria answered from aggregates, then <c>{prefix}_flags</c> with one cumulative column per top-level
        /// criterion (c1 = first criterion holds, c2 = c1 and the second, …). Criteria that are not answered from a set
        /// are evaluated per person through person_id, in user order, only for persons who passed every earlier one,
        /// so the expensive ones (wearable windows, enrollment, adherence) run for the few left after the selective ones.
        /// </summary>
        private List<string> Body(SubgroupDefinition definition, string prefix, bool aggregates, List<string> ctes)
        {
            var hasIndex = definition.Index is not null;
            if (hasIndex)
            {
                var index = (aggregates ? AggregateIndexSql(definition.Index!) : null) ?? IndexSql(definition.Index!);
                ctes.Add($"\n{prefix}_idx AS MATERIALIZED (\n{index}\n)");
            }

            var joins = new StringBuilder();
            var columns = new StringBuilder();
            var flags = new List<string>();
            var laterals = new StringBuilder();
            var previous = "true";
            for (var i = 0; i < definition.Criteria.Count; i++)
            {
                var node = definition.Criteria[i];
                var number = (i + 1).ToString(CultureInfo.InvariantCulture);
                string flag;
                if (aggregates && SetForm(node, $"{prefix}_k{number}", $"k{number}") is { } set)
                {
                    // A person set from the aggregates, hash-joined once; the flag is a column of the population row.
                    ctes.Add(set.Cte);
                    var on = set.Words ? $"k{number}.word = b.person_id >> 6" : $"k{number}.person_id = b.person_id";
                    joins.Append(CultureInfo.InvariantCulture, $"\n    LEFT JOIN {prefix}_k{number} k{number} ON {on}");
                    columns.Append(CultureInfo.InvariantCulture, $", coalesce({set.Flag}, false) AS k{number}");
                    flag = i == 0 ? $"b.k{number}" : $"({previous} AND b.k{number})";
                }
                else if (Inline(node))
                {
                    flag = i == 0 ? Expression(node) : $"({previous} AND {Expression(node)})";
                }
                else
                {
                    // A wearable window is asked only of persons whose worn days span it (the others fail it: no worn
                    // day in the window gives no mean), found in the source's wearable spans.
                    var guard = previous;
                    if (aggregates && node is WearableCriterion wearable)
                    {
                        var (start, end) = Bounds(wearable.Window);
                        joins.Append(CultureInfo.InvariantCulture, $"\n    LEFT JOIN {schema}.agg_wearable_span w{number} ON w{number}.person_id = b.person_id");
                        columns.Append(CultureInfo.InvariantCulture,
                            $", coalesce(w{number}.first_date <= {end} AND w{number}.last_date >= {start}, false) AS w{number}");
                        guard = i == 0 ? $"b.w{number}" : $"({previous} AND b.w{number})";
                    }

                    // OFFSET 0 keeps the planner from pulling the step up into the next one, which would evaluate it
                    // again inside each later step (quadratic in the number of criteria).
                    laterals.Append(CultureInfo.InvariantCulture,
                        $"\n    CROSS JOIN LATERAL (SELECT {(guard == "true" ? Expression(node) : $"CASE WHEN {guard} THEN {Expression(node)} ELSE false END")} AS ok OFFSET 0) s{number}");
                    flag = $"s{number}.ok";
                }

                flags.Add(flag);
                previous = flag;
            }

            // Consent, joined once before any criterion. The aggregated body reads the bitmap's words (one hash probe and a
            // shift per person); the CDM-table body joins the filter's persons in a materialized step, as it always did
            // (left to itself the planner may put the opaque function on the inner side of a nested loop).
            var consented = aggregates ? "((coalesce(cw.bits, 0) >> CAST(b.person_id & 63 AS integer)) & 1 = 1) <> m.exclude" : "(c.person_id IS NOT NULL)";
            var consentJoin = aggregates
                ? "CROSS JOIN consent_mode m\n    LEFT JOIN consent_words cw ON cw.word = b.person_id >> 6"
                : $"LEFT JOIN {ConsentFilter} c ON c.person_id = b.person_id";
            ctes.Add(
                $"""

                {prefix}_population AS{(aggregates ? "" : " MATERIALIZED")} (
                    SELECT b.*, {consented} AS consented{columns}
                    FROM (SELECT p.person_id, p.year_of_birth, p.gender_concept_id, p.race_concept_id, p.ethnicity_concept_id, {(hasIndex ? "i.index_date" : "CAST(NULL AS date) AS index_date")}
                          FROM {schema}.person p{(hasIndex ? $" JOIN {prefix}_idx i ON i.person_id = p.person_id" : "")}) b
                    {consentJoin}{joins}
                )
                """);
            var flagColumns = new StringBuilder("b.person_id, b.index_date, b.consented");
            for (var i = 0; i < flags.Count; i++)
            {
                flagColumns.Append(CultureInfo.InvariantCulture, $", {flags[i]} AS c{i + 1}");
            }

            ctes.Add(
                $"""

                {prefix}_flags AS (
                    SELECT {flagColumns}
                    FROM {prefix}_population b{laterals}
                )
                """);
            return flags.Select((_, i) => "c" + (i + 1).ToString(CultureInfo.InvariantCulture)).ToList();
        }

        /// <summary>Criteria that are expressions over the population row alone (no table is read).</summary>
        private static bool Inline(CriterionNode node) => node switch
        {
            AgeCriterion or PersonAttributeCriterion => true,
            NotNode not => Inline(not.Node),
            AllNode all => all.Nodes.All(Inline),
            AnyNode any => any.Nodes.All(Inline),
            _ => false,
        };

        /// <summary>Domain codes of agg_event (db/extensions/aggregates.sql), fixed text.</summary>
        private static string DomainCodes(EventDomain domain) => domain switch
        {
            EventDomain.Condition => "1",
            EventDomain.Drug => "2",
            EventDomain.Procedure => "3",
            EventDomain.Observation => "4",
            EventDomain.Measurement => "5",
            EventDomain.Visit => "6",
            EventDomain.Pro => "4, 5",
            _ => throw new ArgumentOutOfRangeException(nameof(domain), domain, null),
        };

        /// <summary>The index event from agg_event: the first (last) date over the concept set, per person.</summary>
        private string? AggregateIndexSql(EventCriterion index)
        {
            if (index.Value is not null || index.VisitTypes is { Count: > 0 })
            {
                return null;
            }

            var set = ConceptSet(index.Concepts);
            var date = index.Occurrence == Occurrence.Last ? "max(a.last_date)" : "min(a.first_date)";
            var units = index.Units.Count > 0 ? $" AND a.unit_concept_id = ANY({Parameter(index.Units.ToArray())})" : "";
            var having = index.Window is { } window ? WindowCondition(window, date) : "";
            return $"""
                    SELECT a.person_id, {date} AS index_date
                    FROM {schema}.agg_event a
                    WHERE a.domain IN ({DomainCodes(index.Domain)}) AND a.concept_id IN (SELECT concept_id FROM {set}){units}
                    GROUP BY a.person_id{(having.Length > 0 ? "\n    HAVING true" + having : "")}
                """;
        }

        /// <summary>A top-level criterion as a CTE of persons and a flag over the population row and the set's row (NULL when the person is not in the set).</summary>
        private sealed record PersonSet(string Cte, string Flag, bool Words = false);

        /// <summary>
        /// The criterion as a set of persons read once (from agg_event, variant_occurrence or genomic_score) and a flag
        /// over the population row, when that gives exactly the per-person answer; null when it must be asked per person.
        /// </summary>
        private PersonSet? SetForm(CriterionNode node, string name, string alias) => node switch
        {
            EventCriterion e => EventSet(e, name, alias),
            VariantCriterion v => VariantSet(v, name, alias),
            GenomicScoreCriterion g => ScoreSet(g, name, alias),
            EnrollmentCriterion e => EnrollmentSet(e, name, alias),
            WearableCriterion w => WearableSet(w, name, alias),
            NotNode { Node: var child } when SetForm(child, name, alias) is { } inner => inner with { Flag = $"NOT coalesce({inner.Flag}, false)" },
            _ => null,
        };

        /// <summary>
        /// Enrollment over a calendar window from the merged spans (agg_enrollment_span, db/extensions/aggregates.sql): of
        /// the spans overlapping the window, the first starts at most g days after its first day, the last ends at most g
        /// days before its last day, and each later one starts at most g days after the previous span's end. Windows
        /// relative to the index date, and negative gaps, are asked per person.
        /// </summary>
        private PersonSet? EnrollmentSet(EnrollmentCriterion e, string name, string alias)
        {
            if (e.Window is not { From: { } from, To: { } to, Start: null, End: null } || e.AllowedGapDays < 0)
            {
                return null;
            }

            var start = Parameter(from);
            var end = Parameter(to);
            var gap = Parameter(e.AllowedGapDays);
            var spans = $"""
                    SELECT x.person_id >> 6 AS word, bit_or(CAST(1 AS bigint) << CAST(x.person_id & 63 AS integer)) AS bits
                    FROM (SELECT a.person_id
                          FROM {schema}.agg_enrollment_span a
                          WHERE a.span_end >= {start} AND a.span_start <= {end}
                          GROUP BY a.person_id
                          HAVING min(a.span_start) <= {start} + {gap} AND max(a.span_end) >= {end} - {gap}
                             AND bool_and(a.previous_end IS NULL OR a.previous_end < {start} OR a.span_start - a.previous_end - 1 <= {gap})) x
                    GROUP BY x.person_id >> 6
                """;
            var flag = $"((coalesce({alias}.bits, 0) >> CAST(b.person_id & 63 AS integer)) & 1 = 1)";
            if (from is { Month: 1, Day: 1 } && to == new DateOnly(from.Year, 12, 31))
            {
                // One calendar year: the words of its longest uncovered runs 0..g (decision 0746), when the summary holds
                // the year (its marker row); otherwise the spans. Exactly one branch runs (one-time filters).
                var year = Parameter(from.Year);
                var held = $"EXISTS (SELECT 1 FROM {schema}.agg_enrollment_year_words m WHERE m.year = {year} AND m.max_gap = -1)";
                return new PersonSet($"""

                    {name} AS MATERIALIZED (
                        SELECT y.word, bit_or(y.bits) AS bits
                        FROM {schema}.agg_enrollment_year_words y
                        WHERE y.year = {year} AND y.max_gap >= 0 AND y.max_gap <= {gap} AND {held}
                        GROUP BY y.word
                        UNION ALL
                        SELECT s.word, s.bits FROM ({spans}) s WHERE NOT {held}
                    )
                    """, flag, Words: true);
            }

            return new PersonSet($"""

                {name} AS MATERIALIZED (
                {spans}
                )
                """, flag, Words: true);
        }

        /// <summary>
        /// A wearable mean over whole calendar months (agg_wearable_month, db/extensions/aggregates.sql): the worn days
        /// and the sum of the days' values of the months in the window, per person; persons with at least the required
        /// days whose mean (sum / days, exact) is in range. Windows with part of a month, relative to the index date, with
        /// a baseline, or requiring no worn day, are asked per person.
        /// </summary>
        private PersonSet? WearableSet(WearableCriterion w, string name, string alias)
        {
            if (w.Window is not { From: { } from, To: { } to, Start: null, End: null } || w.Baseline is not null || w.MinDaysWorn < 1
                || from.Day != 1 || to.AddDays(1).Day != 1)
            {
                return null;
            }

            var metric = w.Metric switch
            {
                WearableMetric.Steps => "steps",
                WearableMetric.RestingHeartRate => "resting_hr",
                WearableMetric.Hrv => "hrv_rmssd",
                _ => "sleep_minutes",
            };
            if (from is { Month: 1, Day: 1 } && to == new DateOnly(from.Year, 12, 31))
            {
                // One calendar year: one row per person (agg_wearable_year, decision 0746), no grouping by person.
                var yearMean = w.Mean is { } yearRange ? Range($"y.{metric}_sum / nullif(y.{metric}_days, 0)", yearRange) : "";
                return new PersonSet($"""

                    {name} AS MATERIALIZED (
                        SELECT y.person_id >> 6 AS word, bit_or(CAST(1 AS bigint) << CAST(y.person_id & 63 AS integer)) AS bits
                        FROM {schema}.agg_wearable_year y
                        WHERE y.year = {Parameter(from.Year)} AND y.{metric}_days >= {Parameter(w.MinDaysWorn)}{yearMean}
                        GROUP BY y.person_id >> 6
                    )
                    """, $"((coalesce({alias}.bits, 0) >> CAST(b.person_id & 63 AS integer)) & 1 = 1)", Words: true);
            }

            var mean = w.Mean is { } range ? Range($"sum(m.{metric}_sum) / sum(m.{metric}_days)", range) : "";
            var cte = $"""

                {name} AS MATERIALIZED (
                    SELECT x.person_id >> 6 AS word, bit_or(CAST(1 AS bigint) << CAST(x.person_id & 63 AS integer)) AS bits
                    FROM (SELECT m.person_id
                          FROM {schema}.agg_wearable_month m
                          WHERE m.month >= {Parameter(from)} AND m.month <= {Parameter(to)} AND m.{metric}_days > 0
                          GROUP BY m.person_id
                          HAVING sum(m.{metric}_days) >= {Parameter(w.MinDaysWorn)}{mean}) x
                    GROUP BY x.person_id >> 6
                )
                """;
            return new PersonSet(cte, $"((coalesce({alias}.bits, 0) >> CAST(b.person_id & 63 AS integer)) & 1 = 1)", Words: true);
        }

        private PersonSet? EventSet(EventCriterion e, string name, string alias)
        {
            if (e.VisitTypes is { Count: > 0 })
            {
                return null;
            }

            var where = new StringBuilder();
            var flag = new StringBuilder($"{alias}.person_id IS NOT NULL");
            if (e.Value is { } value)
            {
                // One-sided value ranges, any event, no window, at least one: some event's value is in range
                // <=> the smallest (largest) value of some concept and unit is.
                var lower = value.Gte is not null || value.Gt is not null;
                var upper = value.Lte is not null || value.Lt is not null;
                if (e.Occurrence != Occurrence.Any || e.Window is not null || e.Count != CountRange.AtLeastOne || lower == upper)
                {
                    return null;
                }

                where.Append(Range(upper ? "a.min_value" : "a.max_value", value));
            }
            else if (e.Occurrence == Occurrence.First)
            {
                flag.Append(e.Window is { } w ? WindowCondition(w, $"{alias}.f") : "");
            }
            else if (e.Occurrence == Occurrence.Last)
            {
                flag.Append(e.Window is { } w ? WindowCondition(w, $"{alias}.l") : "");
            }
            else if (e.Count == CountRange.AtLeastOne)
            {
                if (e.Window is { } w)
                {
                    var upper = w.End is not null || w.To is not null;
                    var lower = w.Start is not null || w.From is not null;
                    if (upper && lower)
                    {
                        return null;
                    }

                    // Only upper bounds: the first event is early enough; only lower bounds: the last is late enough.
                    flag.Append(WindowCondition(w, upper ? $"{alias}.f" : $"{alias}.l"));
                }
            }
            else
            {
                // A number of events without window, at least one: their sum over the set.
                if (e.Window is not null || e.Count.Min < 1)
                {
                    return null;
                }

                flag.Append(CultureInfo.InvariantCulture, $" AND {alias}.n >= {Parameter(e.Count.Min)}");
                if (e.Count.Max is { } max)
                {
                    flag.Append(CultureInfo.InvariantCulture, $" AND {alias}.n <= {Parameter(max)}");
                }
            }

            var set = ConceptSet(e.Concepts);
            if (e.Units.Count > 0)
            {
                where.Append(CultureInfo.InvariantCulture, $" AND a.unit_concept_id = ANY({Parameter(e.Units.ToArray())})");
            }

            var existence = e.Value is not null || (e.Occurrence == Occurrence.Any && e.Count == CountRange.AtLeastOne && e.Window is null);
            var words = $"((coalesce({alias}.bits, 0) >> CAST(b.person_id & 63 AS integer)) & 1 = 1)";
            if (existence && e.Value is null && e.Units.Count == 0)
            {
                // Any event of the set, ever: the OR of the set's person words, one row per 64 persons.
                var wordCte = $"""

                    {name} AS MATERIALIZED (
                        SELECT w.word, bit_or(w.bits) AS bits
                        FROM {schema}.agg_event_words w
                        WHERE w.domain IN ({DomainCodes(e.Domain)}) AND w.concept_id IN (SELECT concept_id FROM {set})
                        GROUP BY w.word
                    )
                    """;
                return new PersonSet(wordCte, words, Words: true);
            }

            if (existence)
            {
                // Existence with a value (and units): the matching summary rows folded into person words; a value range
                // reads the value summary (values as double precision, as the range parameters compare them), one index
                // range of the persons in range (decision 0747).
                var valueCte = $"""

                    {name} AS MATERIALIZED (
                        SELECT a.person_id >> 6 AS word, bit_or(CAST(1 AS bigint) << CAST(a.person_id & 63 AS integer)) AS bits
                        FROM {schema}.{(e.Value is not null ? "agg_event_value" : "agg_event")} a
                        WHERE a.domain IN ({DomainCodes(e.Domain)}) AND a.concept_id IN (SELECT concept_id FROM {set}){where}
                        GROUP BY a.person_id >> 6
                    )
                    """;
                return new PersonSet(valueCte, words, Words: true);
            }

            // Only the aggregates the flag reads: a narrower hash table per person.
            var flagText = flag.ToString();
            var aggregates = new List<string> { "a.person_id" };
            aggregates.AddRange(new[] { ("f", "min(a.first_date) AS f"), ("l", "max(a.last_date) AS l"), ("n", "sum(a.events) AS n") }
                .Where(x => flagText.Contains($"{alias}.{x.Item1}", StringComparison.Ordinal)).Select(x => x.Item2));
            var cte = $"""

                {name} AS MATERIALIZED (
                    SELECT {string.Join(", ", aggregates)}
                    FROM {schema}.agg_event a
                    WHERE a.domain IN ({DomainCodes(e.Domain)}) AND a.concept_id IN (SELECT concept_id FROM {set}){where}
                    GROUP BY a.person_id
                )
                """;
            return new PersonSet(cte, flagText);
        }

        private PersonSet? VariantSet(VariantCriterion v, string name, string alias)
        {
            if (v.Window is { IsRelative: true })
            {
                return null;
            }

            if (v.Count.Min < 1)
            {
                return null;
            }

            // The per-person filter of VariantExpression without its correlation, grouped by person.
            var filter = VariantFilter(v, "true");
            var flag = new StringBuilder($"{alias}.person_id IS NOT NULL");

            if (v.Count != CountRange.AtLeastOne)
            {
                flag.Append(CultureInfo.InvariantCulture, $" AND {alias}.n >= {Parameter(v.Count.Min)}");
                if (v.Count.Max is { } max)
                {
                    flag.Append(CultureInfo.InvariantCulture, $" AND {alias}.n <= {Parameter(max)}");
                }
            }

            var cte = $"""

                {name} AS MATERIALIZED (
                    SELECT v.person_id, count(*) AS n FROM {schema}.variant_occurrence v WHERE {filter} GROUP BY v.person_id
                )
                """;
            return new PersonSet(cte, flag.ToString());
        }

        private PersonSet? ScoreSet(GenomicScoreCriterion g, string name, string alias)
        {
            if (g.Window is { IsRelative: true })
            {
                return null;
            }

            var cte = $"""

                {name} AS MATERIALIZED (
                    SELECT DISTINCT g.person_id FROM {schema}.genomic_score g WHERE {ScoreFilter(g, "true")}
                )
                """;
            return new PersonSet(cte, $"{alias}.person_id IS NOT NULL");
        }

        private string Parameter(object value)
        {
            var name = "p" + (_parameters.Count - 2).ToString(CultureInfo.InvariantCulture);
            _parameters.Add(new SqlParameter(name, value));
            return "@" + name;
        }

        /// <summary>A concept set as a materialized CTE of concept ids: included (with descendants) except excluded (with descendants).</summary>
        private string ConceptSet(IReadOnlyList<ConceptItem> items)
        {
            string Part(bool exclude) =>
                $"""
                        SELECT i.id FROM unnest({Parameter(items.Where(c => c.Exclude == exclude && !c.Descendants).Select(c => c.Id).ToArray())}) i(id)
                        UNION
                        SELECT ca.descendant_concept_id FROM {schema}.concept_ancestor ca WHERE ca.ancestor_concept_id = ANY({Parameter(items.Where(c => c.Exclude == exclude && c.Descendants).Select(c => c.Id).ToArray())})
                        UNION
                        SELECT i.id FROM unnest({Parameter(items.Where(c => c.Exclude == exclude && c.Descendants).Select(c => c.Id).ToArray())}) i(id)
                """;
            var name = "cs" + _conceptSets.Count.ToString(CultureInfo.InvariantCulture);
            _conceptSets.Add($"    SELECT concept_id FROM (\n{Part(false)}\n    ) included(concept_id)\n    EXCEPT\n    SELECT concept_id FROM (\n{Part(true)}\n    ) excluded(concept_id)");
            return name;
        }

        /// <summary>The rows of an event domain: person_id, concept_id, d (date), v (value), unit; of one person when correlated.</summary>
        private string Rows(EventDomain domain, bool correlated)
        {
            var parts = TablesOf(domain).Select(t =>
                $"SELECT x.person_id, x.{t.Concept} AS concept_id, x.{t.Date} AS d, {(t.Value is null ? "CAST(NULL AS numeric)" : "x." + t.Value)} AS v, " +
                $"{(t.Unit is null ? "CAST(NULL AS integer)" : "x." + t.Unit)} AS unit, x.{t.Visit} AS visit_id FROM {schema}.{t.Table} x" +
                (correlated ? " WHERE x.person_id = b.person_id" : ""));
            return "(" + string.Join(" UNION ALL ", parts) + ")";
        }

        private string EventFilter(EventCriterion criterion, string alias)
        {
            var set = ConceptSet(criterion.Concepts);
            var filter = new StringBuilder($"{alias}.concept_id IN (SELECT concept_id FROM {set})");
            if (criterion.Value is { } value)
            {
                filter.Append(Range($"{alias}.v", value));
            }

            if (criterion.Units.Count > 0)
            {
                filter.Append(CultureInfo.InvariantCulture, $" AND {alias}.unit = ANY({Parameter(criterion.Units.ToArray())})");
            }

            if (criterion.VisitTypes is { Count: > 0 } visitTypes)
            {
                // The event's own visit: same person (the join stays on person_id) and that visit's id.
                filter.Append(CultureInfo.InvariantCulture,
                    $" AND EXISTS (SELECT 1 FROM {schema}.visit_occurrence vo WHERE vo.person_id = {alias}.person_id AND vo.visit_occurrence_id = {alias}.visit_id AND vo.visit_concept_id = ANY({Parameter(visitTypes.ToArray())}))");
            }

            return filter.ToString();
        }

        private string IndexSql(EventCriterion index)
        {
            var filter = EventFilter(index, "e");
            var aggregate = index.Occurrence == Occurrence.Last ? "max" : "min";
            var having = index.Window is { } window ? WindowCondition(window, $"{aggregate}(e.d)") : "";
            return $"""
                    SELECT e.person_id, {aggregate}(e.d) AS index_date
                    FROM {Rows(index.Domain, correlated: false)} e
                    WHERE {filter}
                    GROUP BY e.person_id{(having.Length > 0 ? "\n    HAVING true" + having : "")}
                """;
        }

        /// <summary>" AND ..." conditions that put <paramref name="date"/> in the window (empty without bounds).</summary>
        private string WindowCondition(Window window, string date)
        {
            var condition = new StringBuilder();
            if (window.Start is { } start)
            {
                condition.Append(CultureInfo.InvariantCulture, $" AND {date} >= b.index_date + {Parameter(start)}");
            }

            if (window.End is { } end)
            {
                condition.Append(CultureInfo.InvariantCulture, $" AND {date} <= b.index_date + {Parameter(end)}");
            }

            if (window.From is { } from)
            {
                condition.Append(CultureInfo.InvariantCulture, $" AND {date} >= {Parameter(from)}");
            }

            if (window.To is { } to)
            {
                condition.Append(CultureInfo.InvariantCulture, $" AND {date} <= {Parameter(to)}");
            }

            return condition.ToString();
        }

        private string Range(string value, ValueRange range)
        {
            var condition = new StringBuilder();
            if (range.Gte is { } gte)
            {
                condition.Append(CultureInfo.InvariantCulture, $" AND {value} >= {Parameter(gte)}");
            }

            if (range.Gt is { } gt)
            {
                condition.Append(CultureInfo.InvariantCulture, $" AND {value} > {Parameter(gt)}");
            }

            if (range.Lte is { } lte)
            {
                condition.Append(CultureInfo.InvariantCulture, $" AND {value} <= {Parameter(lte)}");
            }

            if (range.Lt is { } lt)
            {
                condition.Append(CultureInfo.InvariantCulture, $" AND {value} < {Parameter(lt)}");
            }

            return condition.ToString();
        }

        private string Count(string rows, CountRange count) => count switch
        {
            { Min: 1, Max: null } => $"EXISTS (SELECT 1 FROM {rows})",
            { Max: null } => $"((SELECT count(*) FROM {rows}) >= {Parameter(count.Min)})",
            _ => $"((SELECT count(*) FROM {rows}) BETWEEN {Parameter(count.Min)} AND {Parameter(count.Max!.Value)})",
        };

        /// <summary>A boolean expression over the population row b, never NULL.</summary>
        private string Expression(CriterionNode node) => node switch
        {
            AllNode all => "(" + string.Join(" AND ", Cheapest(all.Nodes).Select(Expression)) + ")",
            AnyNode any => "(" + string.Join(" OR ", Cheapest(any.Nodes).Select(Expression)) + ")",
            NotNode not => $"(NOT {Expression(not.Node)})",
            AgeCriterion age => $"coalesce(true{Range("(CAST(extract(year FROM b.index_date) AS integer) - b.year_of_birth)", new ValueRange(age.Min, null, age.Max, null))}, false)",
            PersonAttributeCriterion attribute => $"coalesce(b.{AttributeColumn(attribute.Attribute)} = ANY({Parameter(attribute.ConceptIds.ToArray())}), false)",
            EventCriterion e => EventExpression(e),
            VariantCriterion v => VariantExpression(v),
            GenomicScoreCriterion g => ScoreExpression(g),
            WearableCriterion w => WearableExpression(w),
            EnrollmentCriterion e => EnrollmentExpression(e),
            AdherenceCriterion a => AdherenceExpression(a),
            SubgroupCriterion member => SubgroupMembership.Expression(member, schema, source, purpose, Parameter),
            _ => throw new ArgumentOutOfRangeException(nameof(node), node.GetType().Name, null),
        };

        /// <summary>
        /// Children of a group, cheapest first: AND and OR stop at the first false (true) operand, so columns of the
        /// population row go before index probes, and windowed aggregates (wearables, enrollment) go last. The result
        /// is the same in any order; top-level criteria keep the user's order, which is the attrition's.
        /// </summary>
        private static IEnumerable<CriterionNode> Cheapest(IReadOnlyList<CriterionNode> nodes) => nodes.OrderBy(Cost);

        private static int Cost(CriterionNode node) => node switch
        {
            AgeCriterion or PersonAttributeCriterion => 0,
            VariantCriterion or GenomicScoreCriterion => 1,
            EventCriterion => 2,
            WearableCriterion => 3,
            EnrollmentCriterion or AdherenceCriterion => 4,
            NotNode not => Cost(not.Node),
            AllNode all => all.Nodes.Max(Cost),
            AnyNode any => any.Nodes.Max(Cost),
            _ => 5,
        };

        private static string AttributeColumn(PersonAttribute attribute) => attribute switch
        {
            PersonAttribute.Sex => "gender_concept_id",
            PersonAttribute.Race => "race_concept_id",
            _ => "ethnicity_concept_id",
        };

        private string EventExpression(EventCriterion criterion)
        {
            var filter = EventFilter(criterion, "e");
            if (criterion.Occurrence == Occurrence.Any)
            {
                var inWindow = criterion.Window is { } any ? WindowCondition(any, "e.d") : "";
                return Count($"{Rows(criterion.Domain, correlated: true)} e WHERE {filter}{inWindow}", criterion.Count);
            }

            // The person's first (last) matching event, wherever it lies, must fall in the window.
            var window = criterion.Window is { } w ? WindowCondition(w, "f.d") : "";
            var order = criterion.Occurrence == Occurrence.First ? "e.d" : "e.d DESC";
            return $"EXISTS (SELECT 1 FROM (SELECT e.d FROM {Rows(criterion.Domain, correlated: true)} e WHERE {filter} ORDER BY {order} LIMIT 1) f WHERE true{window})";
        }

        private string VariantExpression(VariantCriterion criterion) =>
            Count($"{schema}.variant_occurrence v WHERE {VariantFilter(criterion, "v.person_id = b.person_id")}", criterion.Count);

        /// <summary>The conditions on a variant_occurrence row v, after <paramref name="person"/> (the correlation, or true).</summary>
        private string VariantFilter(VariantCriterion criterion, string person)
        {
            var filter = new StringBuilder(person);
            if (criterion.Gene is { } gene)
            {
                filter.Append(CultureInfo.InvariantCulture, $" AND v.gene_symbol = {Parameter(gene)}");
            }

            void AnyOf(string column, IReadOnlyList<string> values)
            {
                if (values.Count > 0)
                {
                    filter.Append(CultureInfo.InvariantCulture, $" AND v.{column} = ANY({Parameter(values.ToArray())})");
                }
            }

            AnyOf("hgvs_c", criterion.HgvsC);
            AnyOf("hgvs_p", criterion.HgvsP);
            AnyOf("rsid", criterion.Rsids);
            AnyOf("zygosity", criterion.Zygosity);
            AnyOf("clinical_significance", criterion.Significance);
            if (criterion.Window is { } window)
            {
                filter.Append(WindowCondition(window, "v.sample_date"));
            }

            return filter.ToString();
        }

        private string ScoreExpression(GenomicScoreCriterion criterion) =>
            $"EXISTS (SELECT 1 FROM {schema}.genomic_score g WHERE {ScoreFilter(criterion, "g.person_id = b.person_id")})";

        /// <summary>The conditions on a genomic_score row g, after <paramref name="person"/> (the correlation, or true).</summary>
        private string ScoreFilter(GenomicScoreCriterion criterion, string person)
        {
            var filter = new StringBuilder($"{person} AND g.score_id = {Parameter(criterion.ScoreId)}");
            if (criterion.Percentile is { } percentile)
            {
                filter.Append(Range("g.percentile", percentile));
            }

            if (criterion.Value is { } value)
            {
                filter.Append(Range("g.value", value));
            }

            if (criterion.Window is { } window)
            {
                filter.Append(WindowCondition(window, "g.measured_date"));
            }

            return filter.ToString();
        }

        private string WearableExpression(WearableCriterion criterion)
        {
            var column = criterion.Metric switch
            {
                WearableMetric.Steps => "steps",
                WearableMetric.RestingHeartRate => "resting_hr",
                WearableMetric.Hrv => "hrv_rmssd",
                _ => "sleep_minutes",
            };

            // Worn days in a window, one value per day (devices of the same day averaged): their number n and mean m.
            string Summary(Window window) =>
                $"""
                (SELECT count(*) AS n, avg(d.v) AS m
                           FROM (SELECT wd.measurement_date, avg(wd.{column}) AS v
                                 FROM {schema}.wearable_daily wd
                                 WHERE wd.person_id = b.person_id AND wd.wear_minutes > 0 AND wd.{column} IS NOT NULL{WindowCondition(window, "wd.measurement_date")}
                                 GROUP BY wd.measurement_date) d)
                """;

            var minDays = Parameter(criterion.MinDaysWorn);
            var condition = new StringBuilder($"cur.n >= {minDays}");
            if (criterion.Mean is { } mean)
            {
                condition.Append(Range("cur.m", mean));
            }

            var from = new StringBuilder($"{Summary(criterion.Window)} cur");
            if (criterion.Baseline is { } baseline)
            {
                condition.Append(CultureInfo.InvariantCulture, $" AND base.n >= {minDays}");
                condition.Append(Range("(cur.m - base.m) * 100 / nullif(base.m, 0)", baseline.ChangePercent));
                from.Append(CultureInfo.InvariantCulture, $", {Summary(baseline.Window)} base");
            }

            return $"coalesce((SELECT {condition} FROM {from}), false)";
        }

        /// <summary>The first and last day of a bounded window, as SQL over the population row b.</summary>
        private (string Start, string End) Bounds(Window window) =>
            (window.Start is { } s ? $"b.index_date + {Parameter(s)}" : Parameter(window.From!.Value),
             window.End is { } e ? $"b.index_date + {Parameter(e)}" : Parameter(window.To!.Value));

        private string AdherenceExpression(AdherenceCriterion criterion)
        {
            var set = ConceptSet(criterion.Concepts);
            var (start, end) = Bounds(criterion.Window);
            // Days are counted as offsets from the window's first day (integers), so no interval literal is needed.
            const string Pdc = "((SELECT count(DISTINCT g.day) FROM {0}.drug_exposure x CROSS JOIN LATERAL generate_series(" +
                "greatest(x.drug_exposure_start_date, w.ws) - w.ws, least(greatest(x.drug_exposure_end_date, x.drug_exposure_start_date), w.we) - w.ws) g(day) " +
                "WHERE x.person_id = b.person_id AND x.drug_concept_id IN (SELECT concept_id FROM {1}) " +
                "AND x.drug_exposure_start_date <= w.we AND x.drug_exposure_end_date >= w.ws) / CAST(w.we - w.ws + 1 AS numeric))";
            var pdc = string.Format(CultureInfo.InvariantCulture, Pdc, schema, set);
            return $"coalesce((SELECT true{Range(pdc, criterion.Pdc)} FROM (SELECT CAST({start} AS date) AS ws, CAST({end} AS date) AS we) w), false)";
        }

        private string EnrollmentExpression(EnrollmentCriterion criterion)
        {
            var (start, end) = Bounds(criterion.Window);
            var gap = Parameter(criterion.AllowedGapDays);
            // Periods clipped to the window in start order: each one's gap is the days between the furthest end covered
            // so far (the day before the window at first) and its start; the last gap runs to the window's end.
            return $"""
                coalesce((SELECT max(x.gap) <= {gap} AND min(x.we - x.run_end) <= {gap}
                     FROM (SELECT w.we,
                                  greatest(pp.payer_plan_period_start_date, w.ws)
                                    - coalesce(max(least(pp.payer_plan_period_end_date, w.we)) OVER earlier, w.ws - 1) - 1 AS gap,
                                  max(least(pp.payer_plan_period_end_date, w.we)) OVER upto AS run_end
                           FROM (SELECT CAST({start} AS date) AS ws, CAST({end} AS date) AS we) w
                           JOIN {schema}.payer_plan_period pp
                             ON pp.person_id = b.person_id AND pp.payer_plan_period_start_date <= w.we AND pp.payer_plan_period_end_date >= w.ws
                            AND pp.payer_plan_period_end_date >= pp.payer_plan_period_start_date
                           WINDOW upto AS (ORDER BY pp.payer_plan_period_start_date, pp.payer_plan_period_end_date ROWS UNBOUNDED PRECEDING),
                                  earlier AS (ORDER BY pp.payer_plan_period_start_date, pp.payer_plan_period_end_date ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)) x), false)
                """;
        }
    }
}
