using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using RwePortal.Warehouse.Cohorts;
using RwePortal.Warehouse.Schema;

namespace RwePortal.Warehouse.Protocols;

/// <summary>
/// What the cohort preview may see of a protocol: time zero, the treatment strategies and eligibility. It has no
/// outcome component by construction (outcome blinding, decision 0902): nothing built from it can name the outcome's
/// concepts. Whether eligibility excludes a prior outcome is carried as a flag only, shown as a line of the attrition.
/// </summary>
public sealed record ProtocolPreviewInput(TreatmentStrategies Strategies, Eligibility Eligibility, TimeZero? TimeZero)
{
    /// <summary>The preview's part of a protocol (a draft is enough once it has its strategies); null without strategies.</summary>
    public static ProtocolPreviewInput? From(ProtocolDefinition protocol)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        return protocol.Strategies is null
            ? null
            : new ProtocolPreviewInput(protocol.Strategies, protocol.Eligibility ?? new Eligibility(null, null, null, null, null, []), protocol.TimeZero);
    }
}

/// <summary>How the distribution of time zero is binned.</summary>
public enum TimeZeroBinning
{
    Year,
    Month,
}

/// <summary>
/// The preview compiled for one source: one statement, its parameters, and the labels of its attrition steps (the
/// statement returns one row per arm and time-zero period with one count column per step, in this order).
/// </summary>
public sealed record CompiledPreview(string Sql, IReadOnlyList<SqlParameter> Parameters, IReadOnlyList<string> Steps, TimeZeroBinning Binning);

/// <summary>
/// The preview's cohort as the opening of a statement: <see cref="With"/> ends with the <c>flags</c> CTE; the labels of
/// the steps (index, grace period, then one per flag, in order) and the number of flags (f1..fN).
/// </summary>
public sealed record CompiledCohort(string With, IReadOnlyList<SqlParameter> Parameters, IReadOnlyList<string> Steps, int FlagCount)
{
    /// <summary>
    /// With <c>separateCriteria</c>: the flags (1-based fN) that are the eligibility criteria, each left NULL in <c>flags</c>
    /// and given here as its subgroup members statement (the one the preview embeds): fN is whether the person is among its
    /// members with the same index date.
    /// </summary>
    public IReadOnlyList<(int Flag, CompiledSubgroup Members)> SeparateCriteria { get; init; } = [];
}

/// <summary>
/// Compiles the cohort preview of a protocol into ONE parameterized statement over a source's cdm schema. Time zero
/// is each person's first dispensing of either strategy (in the study period when one is given); the arm is the
/// strategy dispensed then, and a person who starts both within the grace period is excluded. Then, in order: the
/// new-user washout (observed on every day of it, no earlier dispensing being possible before a first one), age at
/// time zero, prior observation, continuous enrollment and each eligibility criterion. The eligibility criteria are
/// compiled by <see cref="SubgroupCompiler"/> relative to the same index event, so they mean exactly what they mean in
/// a subgroup. Consent for the purpose is part of the statement, as in every warehouse statement.
/// </summary>
public static partial class ProtocolPreviewCompiler
{
    /// <summary>The arms of the result rows.</summary>
    public const string TreatmentArm = "treatment";

    public const string ComparatorArm = "comparator";

    public const string BothArm = "both";

    /// <summary>The attrition line of the prior-outcome exclusion, which the outcome-blind preview does not run.</summary>
    public const string PriorOutcomeLine = "no outcome before time zero: applied once the version is approved (outcome blinded in the preview)";

    public static CompiledPreview Compile(ProtocolPreviewInput input, string schemaName, string source, string purpose, TimeZeroBinning binning = TimeZeroBinning.Year)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        ArgumentException.ThrowIfNullOrWhiteSpace(purpose);
        var schema = "\"" + SchemaName.Validate(schemaName) + "\"";
        return new Emitter(schema, schemaName, source, purpose).Emit(input, binning);
    }

    /// <summary>
    /// The same cohort as the preview, as the opening of a statement ("WITH ..., flags AS (...)") for a caller to finish
    /// with its own CTEs and SELECT: <c>flags</c> has one row per person with an index event (person_id, index_date,
    /// consented, t and c: the strategies dispensed within the grace period, f1..fN: each step after the grace period).
    /// The run's study population reads it, so the preview and the run mean the same cohort.
    /// </summary>
    public static CompiledCohort CompileCohort(ProtocolPreviewInput input, string schemaName, string source, string purpose, bool separateCriteria = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        ArgumentException.ThrowIfNullOrWhiteSpace(purpose);
        var schema = "\"" + SchemaName.Validate(schemaName) + "\"";
        return new Emitter(schema, schemaName, source, purpose).EmitCohort(input, separateCriteria);
    }

    /// <summary>Time zero as the index event of a subgroup: the first dispensing of either strategy, in the study period when one is given.</summary>
    internal static EventCriterion IndexEvent(TreatmentStrategies strategies, TimeZero? timeZero)
    {
        var from = timeZero?.StudyPeriodFrom;
        var to = timeZero?.StudyPeriodTo;
        return new EventCriterion("strategies", "first dispensing of either strategy", EventDomain.Drug,
            [.. strategies.Treatment.Concepts, .. strategies.Comparator.Concepts], Occurrence.First,
            from is null && to is null ? null : new Window(null, null, from, to), CountRange.AtLeastOne, null, []);
    }

    /// <summary>The eligibility steps that the subgroup compiler evaluates, in attrition order, with their labels.</summary>
    internal static List<CriterionNode> EligibilitySteps(Eligibility eligibility)
    {
        var steps = new List<CriterionNode>();
        if (eligibility.MinAge is not null || eligibility.MaxAge is not null)
        {
            var label = (eligibility.MinAge, eligibility.MaxAge) switch
            {
                ({ } min, { } max) => $"age {min}–{max} at time zero",
                ({ } min, null) => $"age {min} or older at time zero",
                (_, var max) => $"age {max} or younger at time zero",
            };
            steps.Add(new AgeCriterion("eligibility.age", label, eligibility.MinAge, eligibility.MaxAge));
        }

        if (eligibility.ContinuousEnrollment is { } enrollment)
        {
            steps.Add(new EnrollmentCriterion(
                "eligibility.continuousEnrollment",
                $"enrolled the {enrollment.Days} days before time zero (gaps up to {enrollment.AllowedGapDays} days)",
                new Window(-enrollment.Days, -1, null, null),
                enrollment.AllowedGapDays));
        }

        steps.AddRange(eligibility.Criteria);
        return steps;
    }

    [GeneratedRegex(@"@p(\d+)\b", RegexOptions.CultureInvariant)]
    private static partial Regex PositionalParameter();

    private sealed class Emitter(string schema, string schemaName, string source, string purpose)
    {
        private readonly List<SqlParameter> _parameters = [new("source", source), new("purpose", purpose)];
        private int _next;

        private string Parameter(object value)
        {
            var name = "v" + (_next++).ToString(CultureInfo.InvariantCulture);
            _parameters.Add(new SqlParameter(name, value));
            return "@" + name;
        }

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
            return $"    SELECT concept_id FROM (\n{Part(false)}\n    ) included(concept_id)\n    EXCEPT\n    SELECT concept_id FROM (\n{Part(true)}\n    ) excluded(concept_id)";
        }

        public CompiledPreview Emit(ProtocolPreviewInput input, TimeZeroBinning binning)
        {
            var (ctes, steps, flagCount, _) = Cohort(input, false);
            var bin = binning == TimeZeroBinning.Month ? "to_char(index_date, 'YYYY-MM')" : "to_char(index_date, 'YYYY')";
            var select = new StringBuilder(
                $"""

                SELECT CASE WHEN t AND c THEN '{BothArm}' WHEN t THEN '{TreatmentArm}' ELSE '{ComparatorArm}' END AS arm,
                       {bin} AS tz_period,
                       count(*) AS persons,
                       count(*) FILTER (WHERE consented) AS step0,
                       count(*) FILTER (WHERE consented AND NOT (t AND c)) AS step1
                """);
            var condition = "consented AND NOT (t AND c)";
            for (var i = 0; i < flagCount; i++)
            {
                condition += $" AND f{i + 1}";
                select.Append(CultureInfo.InvariantCulture, $",\n       count(*) FILTER (WHERE {condition}) AS step{i + 2}");
            }

            select.Append("\nFROM flags\nGROUP BY 1, 2\nORDER BY 1, 2");
            var sql = "WITH" + string.Join(",", ctes) + select;
            return new CompiledPreview(sql, _parameters, steps, binning);
        }

        public CompiledCohort EmitCohort(ProtocolPreviewInput input, bool separateCriteria)
        {
            var (ctes, steps, flagCount, separate) = Cohort(input, separateCriteria);
            return new CompiledCohort("WITH" + string.Join(",", ctes), _parameters, steps, flagCount) { SeparateCriteria = separate };
        }

        /// <summary>
        /// The CTEs up to <c>flags</c> (one row per person with an index event: consent, arm flags t/c, one flag per step), the
        /// step labels, the number of flags and, when <paramref name="separateCriteria"/>, the criteria left to the caller.
        /// </summary>
        private (List<string> Ctes, List<string> Steps, int FlagCount, List<(int, CompiledSubgroup)> Separate) Cohort(ProtocolPreviewInput input, bool separateCriteria)
        {
            var strategies = input.Strategies;
            var from = input.TimeZero?.StudyPeriodFrom;
            var to = input.TimeZero?.StudyPeriodTo;
            var ctes = new List<string>
            {
                $"\ncs_t AS MATERIALIZED (\n{ConceptSet(strategies.Treatment.Concepts)}\n)",
                $"\ncs_c AS MATERIALIZED (\n{ConceptSet(strategies.Comparator.Concepts)}\n)",
            };
            var period = new StringBuilder();
            if (from is { } f)
            {
                period.Append(CultureInfo.InvariantCulture, $" AND min(e.drug_exposure_start_date) >= {Parameter(f)}");
            }

            if (to is { } t)
            {
                period.Append(CultureInfo.InvariantCulture, $" AND min(e.drug_exposure_start_date) <= {Parameter(t)}");
            }

            ctes.Add(
                $"""

                idx AS (
                    SELECT e.person_id, min(e.drug_exposure_start_date) AS index_date
                    FROM {schema}.drug_exposure e
                    WHERE e.drug_concept_id IN (SELECT concept_id FROM cs_t UNION SELECT concept_id FROM cs_c)
                    GROUP BY e.person_id{(period.Length > 0 ? "\n    HAVING true" + period : "")}
                )
                """);

            // Each eligibility step is the members statement of a subgroup with the same index event and that one
            // criterion, its positional parameters renamed so the steps share one parameter list.
            var index = IndexEvent(strategies, input.TimeZero);
            var eligibilitySteps = EligibilitySteps(input.Eligibility);
            var statements = new List<CompiledSubgroup?>();
            for (var i = 0; i < eligibilitySteps.Count; i++)
            {
                var members = SubgroupCompiler.CompileMembers(new SubgroupDefinition(1, null, index, [eligibilitySteps[i]]), schemaName, source, purpose);
                if (separateCriteria)
                {
                    statements.Add(members);
                    continue;
                }

                statements.Add(null);
                ctes.Add($"\ne{i + 1} AS MATERIALIZED (\n{Embed(members, $"e{i + 1}_")}\n)");
            }

            ctes.Add(
                $"""

                population AS MATERIALIZED (
                    SELECT i.person_id, i.index_date, (c.person_id IS NOT NULL) AS consented
                    FROM idx i
                    LEFT JOIN {SubgroupCompiler.ConsentFilter} c ON c.person_id = i.person_id
                )
                """);

            var grace = Parameter(strategies.GracePeriodDays);
            string Started(string set) =>
                $"EXISTS (SELECT 1 FROM {schema}.drug_exposure x WHERE x.person_id = b.person_id AND x.drug_exposure_start_date >= b.index_date " +
                $"AND x.drug_exposure_start_date <= b.index_date + {grace} AND x.drug_concept_id IN (SELECT concept_id FROM {set}))";
            string Observed(int days) =>
                $"EXISTS (SELECT 1 FROM {schema}.observation_period op WHERE op.person_id = b.person_id " +
                $"AND op.observation_period_start_date <= b.index_date - {Parameter(days)} AND op.observation_period_end_date >= b.index_date)";

            var steps = new List<string>
            {
                "first dispensing of either strategy" + (from is null && to is null ? "" : " in the study period") + " (time zero), consented",
                $"started both strategies within {strategies.GracePeriodDays} days of time zero: excluded",
                $"new user: observed the {strategies.NewUserWashoutDays} days before time zero, neither strategy before",
            };
            var flags = new List<string> { Observed(strategies.NewUserWashoutDays) };
            var labels = eligibilitySteps.Select(SubgroupCompiler.Describe).ToList();
            var eligibilityFlags = eligibilitySteps.Select((_, i) => statements[i] is null
                ? $"EXISTS (SELECT 1 FROM e{i + 1} m WHERE m.person_id = b.person_id AND m.index_date = b.index_date)"
                : "CAST(NULL AS boolean)").ToList();
            if (input.Eligibility.PriorObservationDays is { } observed)
            {
                // After age (when given), as the first look-back of eligibility.
                var at = input.Eligibility.MinAge is not null || input.Eligibility.MaxAge is not null ? 1 : 0;
                labels.Insert(at, $"observed at least {observed} days before time zero");
                eligibilityFlags.Insert(at, Observed(observed));
                statements.Insert(at, null);
            }

            // The new-user washout is f1; the eligibility steps follow from f2.
            var separate = statements.Select((members, i) => (Flag: i + 2, Members: members)).Where(x => x.Members is not null).Select(x => (x.Flag, x.Members!)).ToList();

            steps.AddRange(labels);
            flags.AddRange(eligibilityFlags);

            var columns = new StringBuilder($"b.person_id, b.index_date, b.consented,\n           {Started("cs_t")} AS t,\n           {Started("cs_c")} AS c");
            for (var i = 0; i < flags.Count; i++)
            {
                columns.Append(CultureInfo.InvariantCulture, $",\n           {flags[i]} AS f{i + 1}");
            }

            // Materialized so that each person's flags are computed once, not again in every count that filters on them.
            ctes.Add($"\nflags AS MATERIALIZED (\n    SELECT {columns}\n    FROM population b\n)");
            return (ctes, steps, flags.Count, separate);
        }

        /// <summary>A compiled subgroup statement with its positional parameters (@p0, @p1, ...) renamed and added to ours.</summary>
        private string Embed(CompiledSubgroup compiled, string prefix)
        {
            foreach (var parameter in compiled.Parameters)
            {
                if (parameter.Name is "source" or "purpose")
                {
                    continue;
                }

                if (!parameter.Name.StartsWith('p') || !parameter.Name[1..].All(char.IsAsciiDigit))
                {
                    throw new InvalidOperationException($"the subgroup compiler named a parameter '{parameter.Name}', which the preview cannot embed");
                }

                _parameters.Add(new SqlParameter(prefix + parameter.Name, parameter.Value));
            }

            return PositionalParameter().Replace(compiled.Sql, m => "@" + prefix + "p" + m.Groups[1].Value);
        }
    }
}
