using System.Globalization;
using System.Text;
using RwePortal.Warehouse.Cohorts;
using RwePortal.Warehouse.Protocols;

namespace RwePortal.Warehouse.Analyses;

/// <summary>
/// The statements of a study population (docs/analyses.md): the cohort with its attrition flags and the prior-outcome
/// flag; then, over the population passed as arrays (person ids and time zeros, in the population's order), each
/// member's end-of-follow-up dates and first outcome, the strategies' dispensings after time zero (per-protocol
/// censoring) and the negative controls. Every statement joins the consent filter for the purpose. Values are
/// parameters; the only identifier written is the validated schema name.
/// </summary>
public static class StudyPopulationSql
{
    /// <summary>A statement and its parameters.</summary>
    public sealed record Statement(string Sql, IReadOnlyList<SqlParameter> Parameters);

    /// <summary>The cohort: one row per person with an index event (person_id NULL unless consented) and its flags.</summary>
    public sealed record CohortStatement(string Sql, IReadOnlyList<SqlParameter> Parameters, IReadOnlyList<string> Steps, int FlagCount)
    {
        /// <summary>The eligibility criteria read as statements of their own (fN NULL in the cohort's rows): see <see cref="CompiledCohort.SeparateCriteria"/>.</summary>
        public IReadOnlyList<(int Flag, CompiledSubgroup Members)> SeparateCriteria { get; init; } = [];
    }

    /// <summary>
    /// One row per person with an index event: person_id (only when consented), index_date, consented, t, c (strategies
    /// dispensed within the grace period), f1..fN (each eligibility step) and prior (the outcome before time zero, within
    /// the look-back when one is given; false when the protocol does not exclude a prior outcome).
    /// </summary>
    /// <remarks>
    /// With <paramref name="separateCriteria"/> the eligibility criteria are not evaluated in the statement (their flags are
    /// NULL) but returned as the subgroup members statements the preview embeds, for the caller to run beside it (decision 1105).
    /// </remarks>
    public static CohortStatement Cohort(ProtocolDefinition protocol, string schemaName, string source, string purpose, bool separateCriteria = false)
    {
        var input = ProtocolPreviewInput.From(protocol) ?? throw new ArgumentException("the protocol has no strategies", nameof(protocol));
        var cohort = ProtocolPreviewCompiler.CompileCohort(input, schemaName, source, purpose, separateCriteria);
        var builder = new Builder(Quote(schemaName), [.. cohort.Parameters], "o");
        var prior = "false";
        if (protocol.Eligibility?.ExcludePriorOutcome is { } exclusion && protocol.Outcome is { } outcome)
        {
            var lookback = exclusion.LookbackDays is { } days ? $" AND e.d >= f.index_date - {builder.Parameter(days)}" : "";
            prior = $"CASE WHEN f.consented AND NOT (f.t AND f.c) THEN EXISTS (SELECT 1 FROM {builder.Rows(outcome.Event.Domain, "f.person_id")} e " +
                    $"WHERE {builder.EventFilter(outcome.Event, "e")} AND e.d < f.index_date{lookback}) ELSE false END";
        }

        var flags = string.Concat(Enumerable.Range(1, cohort.FlagCount).Select(i => $", f.f{i}"));
        var sql = $"""
            {cohort.With}{builder.ConceptSetCtes()}
            SELECT CASE WHEN f.consented THEN f.person_id END AS person_id, f.index_date, f.consented, f.t, f.c{flags},
                   {prior} AS prior
            FROM flags f
            """;
        return new CohortStatement(sql, builder.Parameters, cohort.Steps, cohort.FlagCount) { SeparateCriteria = cohort.SeparateCriteria };
    }

    /// <summary>
    /// Per member (row i, 1-based, of @person_ids/@time_zeros), the dates that end follow-up: death, the end of the
    /// enrollment (payer_plan_period) and of the observation period that contain time zero, and the first outcome on or
    /// after time zero plus the blanking days. Only consented members return a row.
    /// </summary>
    public static Statement FollowUp(ProtocolDefinition protocol, string schemaName, string source, string purpose)
    {
        var outcome = protocol.Outcome ?? throw new ArgumentException("the protocol has no outcome", nameof(protocol));
        var schema = Quote(schemaName);
        var builder = new Builder(schema, Population(source, purpose), "p");
        var blanking = builder.Parameter(outcome.BlankingDays);
        var filter = builder.EventFilter(outcome.Event, "e");
        var sql = $"""
            WITH{builder.ConceptSetCtes(leading: false)}{PopulationCte}
            SELECT pop.i,
                   (SELECT min(d.death_date) FROM {schema}.death d WHERE d.person_id = pop.person_id) AS death,
                   (SELECT max(pp.payer_plan_period_end_date) FROM {schema}.payer_plan_period pp
                    WHERE pp.person_id = pop.person_id AND pp.payer_plan_period_start_date <= pop.tz AND pp.payer_plan_period_end_date >= pop.tz) AS enrolled_until,
                   (SELECT max(op.observation_period_end_date) FROM {schema}.observation_period op
                    WHERE op.person_id = pop.person_id AND op.observation_period_start_date <= pop.tz AND op.observation_period_end_date >= pop.tz) AS observed_until,
                   (SELECT min(e.d) FROM {builder.Rows(outcome.Event.Domain, "pop.person_id")} e WHERE {filter} AND e.d >= pop.tz + {blanking}) AS outcome
            FROM pop
            ORDER BY pop.i
            """;
        return new Statement(sql, builder.Parameters);
    }

    /// <summary>Per member, each dispensing of either strategy from time zero on: whether it is the treatment's, its start and the last day its supply covers (days_supply, else the end date).</summary>
    public static Statement Dispensings(TreatmentStrategies strategies, string schemaName, string source, string purpose)
    {
        var schema = Quote(schemaName);
        var builder = new Builder(schema, Population(source, purpose), "p");
        var t = builder.ConceptSet(strategies.Treatment.Concepts);
        var c = builder.ConceptSet(strategies.Comparator.Concepts);
        var sql = $"""
            WITH{builder.ConceptSetCtes(leading: false)}{PopulationCte}
            SELECT pop.i,
                   x.drug_concept_id IN (SELECT concept_id FROM {t}) AS treatment,
                   x.drug_exposure_start_date AS start_date,
                   GREATEST(x.drug_exposure_start_date,
                            COALESCE(x.drug_exposure_start_date + (x.days_supply - 1), x.drug_exposure_end_date, x.drug_exposure_start_date)) AS supplied_until
            FROM pop
            JOIN {schema}.drug_exposure x ON x.person_id = pop.person_id AND x.drug_exposure_start_date >= pop.tz
            WHERE x.drug_concept_id IN (SELECT concept_id FROM {t} UNION SELECT concept_id FROM {c})
            ORDER BY pop.i, x.drug_exposure_start_date, supplied_until
            """;
        return new Statement(sql, builder.Parameters);
    }

    /// <summary>
    /// Per member and negative control (a condition concept with its descendants): its first occurrence on or after time
    /// zero and whether it occurred before time zero. Rows only where the member has it at all.
    /// </summary>
    public static Statement NegativeControls(IReadOnlyList<int> conceptIds, string schemaName, string source, string purpose)
    {
        var schema = Quote(schemaName);
        var builder = new Builder(schema, Population(source, purpose), "p");
        var ids = builder.Parameter(conceptIds.Select(id => (long)id).ToArray());
        var sql = $"""
            WITH{PopulationCte},
            nco AS MATERIALIZED (
                SELECT n.id AS nco, n.id AS concept_id FROM unnest({ids}::bigint[]) n(id)
                UNION
                SELECT ca.ancestor_concept_id, ca.descendant_concept_id FROM {schema}.concept_ancestor ca WHERE ca.ancestor_concept_id = ANY({ids}::bigint[])
            )
            SELECT pop.i, n.nco,
                   min(co.condition_start_date) FILTER (WHERE co.condition_start_date >= pop.tz) AS first_after,
                   coalesce(bool_or(co.condition_start_date < pop.tz), false) AS before
            FROM pop
            JOIN {schema}.condition_occurrence co ON co.person_id = pop.person_id
            JOIN nco n ON n.concept_id = co.condition_concept_id
            GROUP BY pop.i, n.nco
            ORDER BY pop.i, n.nco
            """;
        return new Statement(sql, builder.Parameters);
    }

    /// <summary>The names of concepts (negative controls) from the source's vocabulary.</summary>
    public static string ConceptNames(string schemaName) =>
        $"SELECT concept_id, concept_name FROM {Quote(schemaName)}.concept WHERE concept_id = ANY(@ids)";

    /// <summary>The members of a heterogeneity subgroup at time zero: the subgroup compiler's members statement with time zero as its index event.</summary>
    public static CompiledSubgroup SubgroupMembers(ProtocolDefinition protocol, IReadOnlyList<CriterionNode> criteria, string name, string schemaName, string source, string purpose)
    {
        var strategies = protocol.Strategies ?? throw new ArgumentException("the protocol has no strategies", nameof(protocol));
        var index = ProtocolPreviewCompiler.IndexEvent(strategies, protocol.TimeZero);
        return SubgroupCompiler.CompileMembers(new SubgroupDefinition(1, name, index, criteria), schemaName, source, purpose);
    }

    /// <summary>The population CTE <c>pop(i, person_id, tz)</c>: the arrays' rows whose person consents to the purpose today.</summary>
    private const string PopulationCte = $"""

        pop AS MATERIALIZED (
            SELECT p.i, p.person_id, p.tz
            FROM unnest(@person_ids::bigint[], @time_zeros::date[]) WITH ORDINALITY AS p(person_id, tz, i)
            JOIN {SubgroupCompiler.ConsentFilter} cp ON cp.person_id = p.person_id
        )
        """;

    private static List<SqlParameter> Population(string source, string purpose) => [new("source", source), new("purpose", purpose)];

    private static string Quote(string schemaName) => "\"" + Schema.SchemaName.Validate(schemaName) + "\"";

    /// <summary>Parameters and concept-set CTEs of one statement, and the event rows of a domain as the subgroup compiler reads them.</summary>
    private sealed class Builder(string schema, List<SqlParameter> parameters, string prefix)
    {
        private readonly List<string> _conceptSets = [];
        private int _next;

        public IReadOnlyList<SqlParameter> Parameters => parameters;

        public string Parameter(object value)
        {
            var name = prefix + "x" + (_next++).ToString(CultureInfo.InvariantCulture);
            parameters.Add(new SqlParameter(name, value));
            return "@" + name;
        }

        /// <summary>The concept-set CTEs, each preceded by a comma (or, when not leading, separated by commas) for a WITH list.</summary>
        public string ConceptSetCtes(bool leading = true)
        {
            var ctes = _conceptSets.Select((body, i) => $"\n{prefix}cs{i} AS MATERIALIZED (\n{body}\n)").ToList();
            if (ctes.Count == 0)
            {
                return "";
            }

            return leading ? "," + string.Join(",", ctes) : string.Join(",", ctes) + ",";
        }

        public string ConceptSet(IReadOnlyList<ConceptItem> items)
        {
            string Part(bool exclude) =>
                $"""
                        SELECT i.id FROM unnest({Parameter(items.Where(c => c.Exclude == exclude && !c.Descendants).Select(c => c.Id).ToArray())}::int[]) i(id)
                        UNION
                        SELECT ca.descendant_concept_id FROM {schema}.concept_ancestor ca WHERE ca.ancestor_concept_id = ANY({Parameter(items.Where(c => c.Exclude == exclude && c.Descendants).Select(c => c.Id).ToArray())}::int[])
                        UNION
                        SELECT i.id FROM unnest({Parameter(items.Where(c => c.Exclude == exclude && c.Descendants).Select(c => c.Id).ToArray())}::int[]) i(id)
                """;
            var name = prefix + "cs" + _conceptSets.Count.ToString(CultureInfo.InvariantCulture);
            _conceptSets.Add($"    SELECT concept_id FROM (\n{Part(false)}\n    ) included(concept_id)\n    EXCEPT\n    SELECT concept_id FROM (\n{Part(true)}\n    ) excluded(concept_id)");
            return name;
        }

        /// <summary>The rows of an event domain of one person: person_id, concept_id, d (date), v (value), unit, visit_id.</summary>
        public string Rows(EventDomain domain, string person)
        {
            var parts = Tables(domain).Select(t =>
                $"SELECT x.person_id, x.{t.Concept} AS concept_id, x.{t.Date} AS d, {(t.Value ? "x.value_as_number" : "CAST(NULL AS numeric)")} AS v, " +
                $"{(t.Value ? "x.unit_concept_id" : "CAST(NULL AS integer)")} AS unit, x.visit_occurrence_id AS visit_id FROM {schema}.{t.Table} x WHERE x.person_id = {person}");
            return "(" + string.Join(" UNION ALL ", parts) + ")";
        }

        public string EventFilter(EventCriterion criterion, string alias)
        {
            var set = ConceptSet(criterion.Concepts);
            var filter = new StringBuilder($"{alias}.concept_id IN (SELECT concept_id FROM {set})");
            if (criterion.Value is { } value)
            {
                Bound(filter, $"{alias}.v", ">=", value.Gte);
                Bound(filter, $"{alias}.v", ">", value.Gt);
                Bound(filter, $"{alias}.v", "<=", value.Lte);
                Bound(filter, $"{alias}.v", "<", value.Lt);
            }

            if (criterion.Units.Count > 0)
            {
                filter.Append(CultureInfo.InvariantCulture, $" AND {alias}.unit = ANY({Parameter(criterion.Units.ToArray())})");
            }

            if (criterion.VisitTypes is { Count: > 0 } visitTypes)
            {
                filter.Append(CultureInfo.InvariantCulture,
                    $" AND EXISTS (SELECT 1 FROM {schema}.visit_occurrence vo WHERE vo.person_id = {alias}.person_id AND vo.visit_occurrence_id = {alias}.visit_id AND vo.visit_concept_id = ANY({Parameter(visitTypes.ToArray())}))");
            }

            return filter.ToString();
        }

        private void Bound(StringBuilder filter, string value, string op, double? bound)
        {
            if (bound is { } b)
            {
                filter.Append(CultureInfo.InvariantCulture, $" AND {value} {op} {Parameter(b)}");
            }
        }

        private sealed record EventTable(string Table, string Concept, string Date, bool Value);

        private static EventTable[] Tables(EventDomain domain) => domain switch
        {
            EventDomain.Condition => [new("condition_occurrence", "condition_concept_id", "condition_start_date", false)],
            EventDomain.Drug => [new("drug_exposure", "drug_concept_id", "drug_exposure_start_date", false)],
            EventDomain.Procedure => [new("procedure_occurrence", "procedure_concept_id", "procedure_date", false)],
            EventDomain.Observation => [new("observation", "observation_concept_id", "observation_date", true)],
            EventDomain.Measurement => [new("measurement", "measurement_concept_id", "measurement_date", true)],
            EventDomain.Visit => [new("visit_occurrence", "visit_concept_id", "visit_start_date", false)],
            EventDomain.Pro =>
            [
                new("observation", "observation_concept_id", "observation_date", true),
                new("measurement", "measurement_concept_id", "measurement_date", true),
            ],
            _ => throw new ArgumentOutOfRangeException(nameof(domain), domain, null),
        };
    }
}
