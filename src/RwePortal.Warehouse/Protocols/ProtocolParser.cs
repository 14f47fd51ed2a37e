using System.Globalization;
using System.Text;
using System.Text.Json;
using Json.Schema;
using RwePortal.Warehouse.Cohorts;

namespace RwePortal.Warehouse.Protocols;

/// <summary>
/// One reason a protocol was refused (or, for a draft, what still stands before submission): the component it
/// belongs to (general, eligibility, strategies, assignment, timeZero, followUp, outcome, contrast, analysisPlan),
/// the node path (e.g. <c>strategies.treatment.concepts[0].id</c>) and the message.
/// </summary>
public sealed record ProtocolError(string Component, string Path, string Message)
{
    public override string ToString() => $"{Component}: {(Path.Length == 0 ? "(document)" : Path)}: {Message}";
}

/// <summary>
/// The result of reading a protocol. From <see cref="ProtocolParser.Parse"/>: valid means complete and consistent,
/// and <see cref="Errors"/> is empty. From <see cref="ProtocolParser.ParseDraft"/>: valid means the draft can be
/// stored (JSON, shapes, types, no unknown fields, limits); <see cref="Errors"/> may still list what submission would
/// refuse (missing components or fields, inconsistencies), so the editor can show them.
/// </summary>
public sealed record ProtocolParseResult(bool IsValid, ProtocolDefinition? Protocol, IReadOnlyList<ProtocolError> Errors);

/// <summary>
/// Reads a protocol from untrusted JSON: against the JSON Schema (protocol.schema.json, embedded, which takes the
/// criteria nodes from the subgroup criteria schema), then the rules a schema cannot say, named per component
/// (grace period beyond follow-up, overlapping strategies, horizons beyond follow-up, a per-protocol contrast without
/// a discontinuation gap, ...). Never throws on bad input.
/// </summary>
public static class ProtocolParser
{
    /// <summary>Largest document read, in characters.</summary>
    public const int MaxDocumentLength = 512 * 1024;

    /// <summary>Most errors reported for one document.</summary>
    public const int MaxErrors = 50;

    private const string RequiredKeyword = "required";

    private static readonly Lazy<JsonSchema> Schema = new(LoadSchema);

    /// <summary>The JSON Schema text.</summary>
    public static string SchemaText { get; } = ReadSchemaText();

    /// <summary>Reads a protocol for submission: every component present and complete, every rule kept.</summary>
    public static ProtocolParseResult Parse(string json)
    {
        var (protocol, structural, incomplete, semantic) = Read(json, draft: false);
        var errors = structural.Concat(incomplete).Concat(semantic).Take(MaxErrors).ToList();
        return errors.Count == 0 && protocol is { IsComplete: true }
            ? new ProtocolParseResult(true, protocol, [])
            : new ProtocolParseResult(false, null, errors);
    }

    /// <summary>
    /// Reads a draft: components and required fields may be missing, but wrong types, unknown fields, broken limits
    /// and malformed JSON still refuse it. The errors list what <see cref="Parse"/> would still refuse.
    /// </summary>
    public static ProtocolParseResult ParseDraft(string json)
    {
        var (protocol, structural, incomplete, semantic) = Read(json, draft: true);
        if (structural.Count > 0 || protocol is null)
        {
            return new ProtocolParseResult(false, null, structural.Take(MaxErrors).ToList());
        }

        return new ProtocolParseResult(true, protocol, incomplete.Concat(semantic).Take(MaxErrors).ToList());
    }

    private static (ProtocolDefinition? Protocol, List<ProtocolError> Structural, List<ProtocolError> Incomplete, List<ProtocolError> Semantic) Read(string json, bool draft)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (json.Length > MaxDocumentLength)
        {
            return (null, [new ProtocolError(ProtocolComponents.General, "", $"the document is longer than {MaxDocumentLength} characters")], [], []);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow, AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            return (null, [new ProtocolError(ProtocolComponents.General, "", "not valid JSON (or nested deeper than 64 levels, or a field given twice): " + e.Message)], [], []);
        }

        using (document)
        {
            var root = document.RootElement;
            var (structural, incomplete) = ValidateAgainstSchema(root);
            if (structural.Count > 0)
            {
                return (null, structural, [], []);
            }

            var missing = ProtocolComponents.All
                .Where(c => !root.TryGetProperty(c, out _))
                .Select(c => new ProtocolError(c, c, "this component is missing"))
                .ToList();
            incomplete.InsertRange(0, missing);
            var incompleteComponents = incomplete.Select(e => e.Component).ToHashSet(StringComparer.Ordinal);
            var reader = new ProtocolReader(root, incompleteComponents);
            var protocol = reader.Read();
            return (protocol, [], incomplete, reader.Errors);
        }
    }

    private static (List<ProtocolError> Structural, List<ProtocolError> Incomplete) ValidateAgainstSchema(JsonElement root)
    {
        var results = Schema.Value.Evaluate(root, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (results.IsValid)
        {
            return ([], []);
        }

        var structural = new List<ProtocolError>();
        var incomplete = new List<ProtocolError>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var detail in results.Details ?? [])
        {
            // An "if" that does not match is how the criteria schema selects a node's shape, not an error in the document.
            if (detail.Errors is null || detail.EvaluationPath.ToString().Split('/').Any(segment => segment == "if"))
            {
                continue;
            }

            foreach (var (keyword, message) in detail.Errors)
            {
                var path = SubgroupDefinitionParser.ToPath(detail.InstanceLocation.ToString());
                var rule = keyword is "additionalProperties" or "false" || message.Contains("false schema", StringComparison.Ordinal)
                    ? "unknown field: not part of this node in version 1 of the protocol schema"
                    : message;
                if (!seen.Add(path + "\u0000" + rule))
                {
                    continue;
                }

                var error = new ProtocolError(ComponentOf(path), path, rule);
                (keyword == RequiredKeyword ? incomplete : structural).Add(error);
            }
        }

        if (structural.Count == 0 && incomplete.Count == 0)
        {
            structural.Add(new ProtocolError(ProtocolComponents.General, "", "the document does not match the protocol schema"));
        }

        return (structural, incomplete);
    }

    /// <summary>The component a node path belongs to; the document root and <c>version</c> count as general.</summary>
    internal static string ComponentOf(string path)
    {
        var end = path.IndexOfAny(['.', '[']);
        var first = end < 0 ? path : path[..end];
        return ProtocolComponents.All.Contains(first, StringComparer.Ordinal) ? first : ProtocolComponents.General;
    }

    private static JsonSchema LoadSchema()
    {
        var registry = new SchemaRegistry();
        var options = new BuildOptions { SchemaRegistry = registry };
        var criteria = JsonSchema.FromText(SubgroupDefinitionParser.SchemaText, options);
        if (registry.Get(new Uri("https://rweportal.example/schemas/subgroup-criteria-v1.json")) is null)
        {
            registry.Register(criteria);
        }

        return JsonSchema.FromText(SchemaText, options);
    }

    private static string ReadSchemaText()
    {
        using var stream = typeof(ProtocolParser).Assembly.GetManifestResourceStream("protocol.schema.json")
            ?? throw new InvalidOperationException("protocol.schema.json is not embedded in the warehouse assembly");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Builds the records from a document the schema accepted and checks what the schema cannot, per component.</summary>
    private sealed class ProtocolReader(JsonElement root, IReadOnlySet<string> incomplete)
    {
        public List<ProtocolError> Errors { get; } = [];

        public ProtocolDefinition Read()
        {
            var components = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var name in ProtocolComponents.All)
            {
                if (root.TryGetProperty(name, out var element))
                {
                    components[name] = ProtocolCanonical.Canonicalize(element);
                }
            }

            var general = Component(ProtocolComponents.General, ReadGeneral);
            var eligibility = Component(ProtocolComponents.Eligibility, ReadEligibility);
            var strategies = Component(ProtocolComponents.Strategies, ReadStrategies);
            var assignment = Component(ProtocolComponents.Assignment, ReadAssignment);
            var timeZero = Component(ProtocolComponents.TimeZero, ReadTimeZero);
            var followUp = Component(ProtocolComponents.FollowUp, ReadFollowUp);
            var outcome = Component(ProtocolComponents.Outcome, ReadOutcome);
            var contrast = Component(ProtocolComponents.Contrast, e => new CausalContrast(
                e.GetProperty("type").GetString() == "perProtocol" ? ContrastType.PerProtocol : ContrastType.IntentionToTreat));
            var plan = Component(ProtocolComponents.AnalysisPlan, ReadAnalysisPlan);
            var protocol = new ProtocolDefinition(AsInt(root.GetProperty("version")), general, eligibility, strategies, assignment, timeZero, followUp, outcome, contrast, plan)
            {
                Components = components,
            };
            CheckAcrossComponents(protocol);
            return protocol;
        }

        private T? Component<T>(string name, Func<JsonElement, T> read)
            where T : class =>
            root.TryGetProperty(name, out var element) && !incomplete.Contains(name) ? read(element) : null;

        private void Error(string path, string message) => Errors.Add(new ProtocolError(ComponentOf(path), path, message));

        private void Add(List<CriteriaError> errors)
        {
            foreach (var error in errors)
            {
                Error(error.Path, error.Rule);
            }
        }

        private static GeneralInformation ReadGeneral(JsonElement e) => new(
            e.GetProperty("title").GetString()!,
            OptionalString(e, "objective"),
            OptionalString(e, "rationale"),
            e.TryGetProperty("identifiers", out var ids)
                ? ids.EnumerateArray().Select(i => new StudyIdentifier(i.GetProperty("system").GetString()!, i.GetProperty("value").GetString()!)).ToList()
                : []);

        private Eligibility ReadEligibility(JsonElement e)
        {
            const string Path = "eligibility";
            int? min = null, max = null;
            if (e.TryGetProperty("age", out var age))
            {
                min = OptionalInt(age, "min");
                max = OptionalInt(age, "max");
                if (min > max)
                {
                    Error(Path + ".age.min", "min is greater than max");
                }
            }

            ContinuousEnrollment? enrollment = null;
            if (e.TryGetProperty("continuousEnrollment", out var ce))
            {
                enrollment = new ContinuousEnrollment(AsInt(ce.GetProperty("days")), OptionalInt(ce, "allowedGapDays") ?? 0);
                if (enrollment.AllowedGapDays >= enrollment.Days)
                {
                    Error(Path + ".continuousEnrollment.allowedGapDays", "the allowed gap is as long as the enrollment it is part of");
                }
            }

            PriorOutcomeExclusion? prior = e.TryGetProperty("excludePriorOutcome", out var po) ? new PriorOutcomeExclusion(OptionalInt(po, "lookbackDays")) : null;
            var errors = new List<CriteriaError>();
            var criteria = e.TryGetProperty("criteria", out var array)
                ? SubgroupDefinitionParser.ReadCriteria(array, Path + ".criteria", hasIndex: true, errors)
                : [];
            Add(errors);
            CheckBaseline(criteria, "eligibility is judged at time zero");
            return new Eligibility(min, max, OptionalInt(e, "priorObservationDays"), enrollment, prior, criteria);
        }

        private TreatmentStrategies ReadStrategies(JsonElement e)
        {
            const string Path = "strategies";
            var errors = new List<CriteriaError>();
            Strategy ReadStrategy(string name)
            {
                var element = e.GetProperty(name);
                return new Strategy(element.GetProperty("label").GetString()!, SubgroupDefinitionParser.ReadConceptSet(element, $"{Path}.{name}", errors));
            }

            var treatment = ReadStrategy("treatment");
            var comparator = ReadStrategy("comparator");
            Add(errors);
            var included = treatment.Concepts.Where(c => !c.Exclude).Select(c => c.Id).ToHashSet();
            for (var i = 0; i < comparator.Concepts.Count; i++)
            {
                if (!comparator.Concepts[i].Exclude && included.Contains(comparator.Concepts[i].Id))
                {
                    Error($"{Path}.comparator.concepts[{i}].id", $"concept {comparator.Concepts[i].Id.ToString(CultureInfo.InvariantCulture)} is in both the treatment and the comparator: the strategies must not overlap");
                }
            }

            return new TreatmentStrategies(treatment, comparator, AsInt(e.GetProperty("newUser").GetProperty("washoutDays")), OptionalInt(e, "gracePeriodDays") ?? 0);
        }

        private Assignment ReadAssignment(JsonElement e)
        {
            var covariates = new List<CovariateSpec>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            var i = 0;
            foreach (var c in e.GetProperty("covariates").EnumerateArray())
            {
                var path = $"assignment.covariates[{i++}]";
                var name = c.GetProperty("name").GetString()!;
                if (!names.Add(name))
                {
                    Error(path + ".name", $"another covariate group is already named \"{name}\"");
                }

                var modality = Enum.Parse<CovariateModality>(c.GetProperty("modality").GetString()!, ignoreCase: true);
                int? start = null, end = null;
                if (c.TryGetProperty("window", out var window))
                {
                    start = AsInt(window.GetProperty("start"));
                    end = AsInt(window.GetProperty("end"));
                    if (start > end)
                    {
                        Error(path + ".window.start", "start is after end");
                    }

                    if (end >= 0)
                    {
                        Error(path + ".window.end", "baseline covariates are measured strictly before time zero: the window must end at day -1 or earlier");
                    }
                }
                else if (modality != CovariateModality.Demographics)
                {
                    Error(path + ".window", "this covariate group needs a window before time zero (only demographics take none)");
                }

                var errors = new List<CriteriaError>();
                var concepts = c.TryGetProperty("concepts", out _) ? SubgroupDefinitionParser.ReadConceptSet(c, path, errors) : [];
                Add(errors);
                covariates.Add(new CovariateSpec(name, modality, start, end, concepts));
            }

            return new Assignment(covariates);
        }

        private TimeZero ReadTimeZero(JsonElement e)
        {
            DateOnly? from = null, to = null;
            if (e.TryGetProperty("studyPeriod", out var period))
            {
                from = Date(period, "from", "timeZero.studyPeriod");
                to = Date(period, "to", "timeZero.studyPeriod");
                if (from > to)
                {
                    Error("timeZero.studyPeriod.from", "from is after to");
                }
            }

            return new TimeZero(e.GetProperty("anchor").GetString()!, from, to);
        }

        private FollowUp ReadFollowUp(JsonElement e)
        {
            var ends = e.GetProperty("endAt").EnumerateArray().Select(v => Enum.Parse<FollowUpEnd>(v.GetString()!, ignoreCase: true)).ToList();
            if (!ends.Contains(FollowUpEnd.Outcome))
            {
                Error("followUp.endAt", "follow-up for the first occurrence of the outcome ends at the outcome: add \"outcome\"");
            }

            bool censorSwitch = false, censorDiscontinuation = false;
            int? gap = null;
            if (e.TryGetProperty("censorAt", out var censor))
            {
                censorSwitch = censor.TryGetProperty("switch", out var s) && s.GetBoolean();
                censorDiscontinuation = censor.TryGetProperty("discontinuation", out var d) && d.GetBoolean();
                gap = OptionalInt(censor, "allowedGapDays");
                if (gap is not null && !censorDiscontinuation)
                {
                    Error("followUp.censorAt.allowedGapDays", "an allowed gap applies to censoring at discontinuation, which is not asked for");
                }

                if (censorDiscontinuation && gap is null)
                {
                    Error("followUp.censorAt.allowedGapDays", "censoring at discontinuation needs the allowed gap in supply (days) after which a person has discontinued");
                }
            }

            return new FollowUp(AsInt(e.GetProperty("maxDays")), ends, censorSwitch, censorDiscontinuation, gap);
        }

        private Outcome ReadOutcome(JsonElement e)
        {
            var errors = new List<CriteriaError>();
            var criterion = SubgroupDefinitionParser.ReadEventCriterion(e.GetProperty("event"), "outcome.event", errors);
            Add(errors);
            return new Outcome(e.GetProperty("label").GetString()!, criterion, OptionalInt(e, "blankingDays") ?? 0);
        }

        private AnalysisPlan ReadAnalysisPlan(JsonElement e)
        {
            const string Path = "analysisPlan";
            var ps = e.GetProperty("propensityScore");
            var model = ps.GetProperty("model").GetString() == "l1" ? PsModelKind.L1 : PsModelKind.Dense;
            var folds = OptionalInt(ps, "crossValidationFolds");
            if (folds is not null && model == PsModelKind.Dense)
            {
                Error(Path + ".propensityScore.crossValidationFolds", "cross-validation chooses the penalty of an L1 model; a dense model has none");
            }

            var psCovariates = ps.TryGetProperty("covariates", out var pc) ? pc.EnumerateArray().Select(v => v.GetString()!).ToList() : [];
            var estimand = e.GetProperty("estimand").GetString() switch { "ATT" => Estimand.Att, "overlap" => Estimand.Overlap, _ => Estimand.Ate };
            var adjustment = Enum.Parse<Adjustment>(e.GetProperty("adjustment").GetString()!, ignoreCase: true);
            WeightTruncation? truncation = null;
            if (e.TryGetProperty("truncation", out var t))
            {
                truncation = new WeightTruncation(t.GetProperty("lower").GetDouble(), t.GetProperty("upper").GetDouble());
                if (truncation.Lower >= truncation.Upper)
                {
                    Error(Path + ".truncation.lower", "the lower quantile must be below the upper one");
                }

                if (adjustment != Adjustment.Weighting)
                {
                    Error(Path + ".truncation", "truncation clips weights: it applies only to adjustment by weighting");
                }
            }

            if (estimand == Estimand.Overlap && adjustment != Adjustment.Weighting)
            {
                Error(Path + ".estimand", "the overlap estimand is defined by overlap weights: it needs adjustment by weighting");
            }

            MatchingSpec? matching = null;
            if (e.TryGetProperty("matching", out var m))
            {
                matching = new MatchingSpec(AsInt(m.GetProperty("ratio")), m.TryGetProperty("caliper", out var cal) ? cal.GetDouble() : null);
            }

            if (adjustment == Adjustment.Matching && matching is null)
            {
                Error(Path + ".matching", "adjustment by matching needs the matching ratio (and optionally a caliper)");
            }
            else if (adjustment != Adjustment.Matching && matching is not null)
            {
                Error(Path + ".matching", "matching settings are given but the adjustment is not matching");
            }

            int? strata = e.TryGetProperty("stratification", out var st) ? AsInt(st.GetProperty("strata")) : null;
            if (adjustment == Adjustment.Stratification && strata is null)
            {
                Error(Path + ".stratification", "adjustment by stratification needs the number of strata");
            }
            else if (adjustment != Adjustment.Stratification && strata is not null)
            {
                Error(Path + ".stratification", "stratification settings are given but the adjustment is not stratification");
            }

            var models = e.GetProperty("outcomeModels").EnumerateArray().Select(v => Enum.Parse<OutcomeModel>(v.GetString()!, ignoreCase: true)).ToList();
            var horizons = e.GetProperty("horizonsDays").EnumerateArray().Select(AsInt).ToList();
            var heterogeneity = new List<HeterogeneitySubgroup>();
            if (e.TryGetProperty("heterogeneity", out var het))
            {
                var names = new HashSet<string>(StringComparer.Ordinal);
                var i = 0;
                foreach (var subgroup in het.EnumerateArray())
                {
                    var path = $"{Path}.heterogeneity[{i++}]";
                    var name = subgroup.GetProperty("name").GetString()!;
                    if (!names.Add(name))
                    {
                        Error(path + ".name", $"another heterogeneity subgroup is already named \"{name}\"");
                    }

                    var errors = new List<CriteriaError>();
                    var criteria = SubgroupDefinitionParser.ReadCriteria(subgroup.GetProperty("criteria"), path + ".criteria", hasIndex: true, errors);
                    Add(errors);
                    CheckBaseline(criteria, "a subgroup for heterogeneity is defined at baseline");
                    heterogeneity.Add(new HeterogeneitySubgroup(name, criteria));
                }
            }

            var negativeControls = e.TryGetProperty("negativeControlOutcomes", out var nc) ? nc.EnumerateArray().Select(AsInt).ToList() : [];
            var d = e.GetProperty("diagnostics");
            EquipoiseThreshold? equipoise = null;
            if (d.TryGetProperty("equipoise", out var eq))
            {
                equipoise = new EquipoiseThreshold(eq.GetProperty("lower").GetDouble(), eq.GetProperty("upper").GetDouble(), eq.GetProperty("minShare").GetDouble());
                if (equipoise.Lower >= equipoise.Upper)
                {
                    Error(Path + ".diagnostics.equipoise.lower", "the lower preference score must be below the upper one");
                }
            }

            var diagnostics = new DiagnosticThresholds(d.GetProperty("maxAbsSmd").GetDouble(), equipoise, OptionalInt(d, "minEffectiveSampleSize"));
            return new AnalysisPlan(new PropensityScoreModel(psCovariates, model, folds), estimand, adjustment, truncation, matching, strata,
                models, horizons, heterogeneity, negativeControls, diagnostics);
        }

        /// <summary>
        /// Criteria judged at time zero may only look at what is known by then: every window of an event, genomic,
        /// wearable, enrollment or adherence criterion ends at a day relative to time zero, at day 0 or before, and no
        /// criterion asks for the person's last occurrence (which may lie after time zero). Otherwise eligibility would
        /// select on the future (immortal time), and the outcome-blind preview could see follow-up.
        /// </summary>
        private void CheckBaseline(IEnumerable<CriterionNode> nodes, string why)
        {
            foreach (var node in nodes)
            {
                switch (node)
                {
                    case AllNode all:
                        CheckBaseline(all.Nodes, why);
                        break;
                    case AnyNode any:
                        CheckBaseline(any.Nodes, why);
                        break;
                    case NotNode not:
                        CheckBaseline([not.Node], why);
                        break;
                    case EventCriterion e:
                        if (e.Occurrence == Occurrence.Last)
                        {
                            Error(e.Path + ".occurrence", why + ": the last occurrence may lie after it; use first or any");
                        }

                        CheckWindow(e.Path, e.Window, why);
                        break;
                    case VariantCriterion v:
                        CheckWindow(v.Path, v.Window, why);
                        break;
                    case GenomicScoreCriterion g:
                        CheckWindow(g.Path, g.Window, why);
                        break;
                    case WearableCriterion w:
                        CheckWindow(w.Path, w.Window, why);
                        if (w.Baseline is { } baseline)
                        {
                            CheckWindow(w.Path + ".baseline", baseline.Window, why);
                        }

                        break;
                    case EnrollmentCriterion en:
                        CheckWindow(en.Path, en.Window, why);
                        break;
                    case AdherenceCriterion a:
                        CheckWindow(a.Path, a.Window, why);
                        break;
                }
            }
        }

        private void CheckWindow(string path, Window? window, string why)
        {
            if (window?.End is not { } end)
            {
                Error(path + ".window", why + ": give the window an end relative to time zero (\"end\": 0 or earlier)");
            }
            else if (end > 0)
            {
                Error(path + ".window.end", why + ": the window must end at time zero (day 0) or before");
            }
        }

        /// <summary>The rules that tie one component to another; each error is named in the component that has to change.</summary>
        private void CheckAcrossComponents(ProtocolDefinition p)
        {
            if (p.Strategies is { } strategies && p.FollowUp is { } followUp && strategies.GracePeriodDays > followUp.MaxDays)
            {
                Error("strategies.gracePeriodDays", $"the grace period ({strategies.GracePeriodDays} days) is longer than the maximum follow-up ({followUp.MaxDays} days)");
            }

            if (p.Outcome is { } outcome && p.FollowUp is { } fu && outcome.BlankingDays >= fu.MaxDays)
            {
                Error("outcome.blankingDays", $"the blanking period ({outcome.BlankingDays} days) leaves no follow-up (maximum {fu.MaxDays} days)");
            }

            if (p.Contrast is { } contrast && p.FollowUp is { } follow)
            {
                if (contrast.Type == ContrastType.PerProtocol && !(follow.CensorAtDiscontinuation && follow.AllowedGapDays is not null))
                {
                    Error("contrast.type", "a per-protocol contrast censors at discontinuation: followUp.censorAt needs discontinuation with an allowed gap");
                }

                if (contrast.Type == ContrastType.IntentionToTreat && (follow.CensorAtSwitch || follow.CensorAtDiscontinuation))
                {
                    Error("contrast.type", "an intention-to-treat analogue follows persons whatever they take: it does not censor at switch or discontinuation (followUp.censorAt)");
                }
            }

            if (p.AnalysisPlan is { } plan)
            {
                if (p.FollowUp is { } f)
                {
                    for (var i = 0; i < plan.HorizonsDays.Count; i++)
                    {
                        if (plan.HorizonsDays[i] > f.MaxDays)
                        {
                            Error($"analysisPlan.horizonsDays[{i}]", $"the horizon ({plan.HorizonsDays[i]} days) is beyond the maximum follow-up ({f.MaxDays} days)");
                        }
                    }
                }

                if (p.Assignment is { } assignment)
                {
                    var names = assignment.Covariates.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
                    for (var i = 0; i < plan.PropensityScore.Covariates.Count; i++)
                    {
                        if (!names.Contains(plan.PropensityScore.Covariates[i]))
                        {
                            Error($"analysisPlan.propensityScore.covariates[{i}]", $"\"{plan.PropensityScore.Covariates[i]}\" is not a covariate group of the assignment");
                        }
                    }
                }

                var taken = new HashSet<int>();
                if (p.Outcome is { } o)
                {
                    taken.UnionWith(o.Event.Concepts.Where(c => !c.Exclude).Select(c => c.Id));
                }

                if (p.Strategies is { } s)
                {
                    taken.UnionWith(s.Treatment.Concepts.Concat(s.Comparator.Concepts).Where(c => !c.Exclude).Select(c => c.Id));
                }

                for (var i = 0; i < plan.NegativeControlOutcomes.Count; i++)
                {
                    if (taken.Contains(plan.NegativeControlOutcomes[i]))
                    {
                        Error($"analysisPlan.negativeControlOutcomes[{i}]", $"concept {plan.NegativeControlOutcomes[i].ToString(CultureInfo.InvariantCulture)} is the outcome or a strategy: a negative control must be an outcome neither strategy is thought to cause");
                    }
                }
            }

            if (p.Eligibility is { } eligibility && p.Strategies is { } st && eligibility.PriorObservationDays is { } observed && observed < st.NewUserWashoutDays)
            {
                Error("eligibility.priorObservationDays", $"the look-back ({observed} days) is shorter than the new-user washout ({st.NewUserWashoutDays} days), which already needs that much observation");
            }
        }

        private DateOnly? Date(JsonElement element, string name, string path)
        {
            if (DateOnly.TryParseExact(element.GetProperty(name).GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
                && date.Year is >= 1800 and <= 2200)
            {
                return date;
            }

            Error(path + "." + name, "not a calendar date between 1800-01-01 and 2200-12-31 (yyyy-MM-dd)");
            return null;
        }

        /// <summary>An integer the schema accepted (JSON Schema counts 2.0 as an integer, which GetInt32 refuses).</summary>
        private static int AsInt(JsonElement value) => (int)value.GetDouble();

        private static int? OptionalInt(JsonElement element, string name) =>
            element.TryGetProperty(name, out var value) ? AsInt(value) : null;

        private static string? OptionalString(JsonElement element, string name) =>
            element.TryGetProperty(name, out var value) ? value.GetString() : null;
    }
}
