using System.Globalization;
using System.Text;
using System.Text.Json;
using Json.Schema;

namespace RwePortal.Warehouse.Cohorts;

/// <summary>One reason a definition was refused: the node it concerns (e.g. <c>criteria[2].any[0].window.start</c>) and the rule.</summary>
public sealed record CriteriaError(string Path, string Rule)
{
    public override string ToString() => $"{(Path.Length == 0 ? "(document)" : Path)}: {Rule}";
}

/// <summary>A parsed definition, or the errors that refused it.</summary>
public sealed record ParseResult(SubgroupDefinition? Definition, IReadOnlyList<CriteriaError> Errors)
{
    public bool IsValid => Definition is not null;
}

/// <summary>
/// Reads a subgroup definition from untrusted JSON: first against the JSON Schema (criteria.schema.json, embedded:
/// shapes, types, unknown fields, list sizes), then the rules a schema cannot say (limits on depth and node count,
/// windows that need an index, bounds in order). Never throws on bad input: every refusal is a list of errors.
/// </summary>
public static class SubgroupDefinitionParser
{
    /// <summary>Largest document read, in characters.</summary>
    public const int MaxDocumentLength = 256 * 1024;

    /// <summary>Deepest nesting of all/any/not groups below a top-level criterion.</summary>
    public const int MaxGroupDepth = 8;

    /// <summary>Most nodes (groups and criteria) in one definition.</summary>
    public const int MaxNodes = 200;

    /// <summary>Longest window (days) of a wearable or enrollment criterion.</summary>
    public const int MaxSummaryWindowDays = 3660;

    /// <summary>Most errors reported for one document.</summary>
    public const int MaxErrors = 25;

    private static readonly Lazy<JsonSchema> Schema = new(LoadSchema);

    /// <summary>The JSON Schema text (docs/criteria.schema.json is a copy).</summary>
    public static string SchemaText { get; } = ReadSchemaText();

    /// <summary>Deepest chain of saved subgroups referring to saved subgroups (the portal's resolution enforces it).</summary>
    public const int MaxReferenceDepth = 4;

    /// <summary>Most saved subgroups one definition may draw in, counted over every level of nesting.</summary>
    public const int MaxReferencedSubgroups = 20;

    /// <summary>
    /// Parses a self-contained definition: references to the portal's library (<c>{"kind": "subgroup"}</c>,
    /// <c>{"conceptSet": …}</c>) are refused, since only the portal can resolve them for a tenant.
    /// </summary>
    public static ParseResult Parse(string json) => Parse(json, allowReferences: false);

    /// <summary>
    /// Parses a definition; with <paramref name="allowReferences"/>, library references are kept unresolved
    /// (<see cref="SubgroupCriterion"/>, <see cref="ConceptSetReference"/>) for the portal to resolve before compiling.
    /// </summary>
    public static ParseResult Parse(string json, bool allowReferences)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (json.Length > MaxDocumentLength)
        {
            return Fail("", $"the document is longer than {MaxDocumentLength} characters");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow, AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            return Fail("", "not valid JSON (or nested deeper than 64 levels, or a field given twice): " + e.Message);
        }

        using (document)
        {
            var schemaErrors = ValidateAgainstSchema(document.RootElement);
            if (schemaErrors.Count > 0)
            {
                return new ParseResult(null, schemaErrors);
            }

            var reader = new Reader(allowReferences);
            var definition = reader.ReadDefinition(document.RootElement);
            return reader.Errors.Count == 0
                ? new ParseResult(definition, [])
                : new ParseResult(null, reader.Errors.Take(MaxErrors).ToList());
        }
    }

    /// <summary>
    /// Reads a list of criteria embedded in another document (a protocol's eligibility or heterogeneity subgroups)
    /// that has passed a schema built on this one's node definition; node paths start at <paramref name="path"/>,
    /// relative windows are relative to that document's index (<paramref name="hasIndex"/>), errors go to <paramref name="errors"/>.
    /// Library references are refused: such a document travels between tenants and must be self-contained.
    /// </summary>
    internal static List<CriterionNode> ReadCriteria(JsonElement array, string path, bool hasIndex, List<CriteriaError> errors)
    {
        var reader = new Reader(allowReferences: false) { HasIndex = hasIndex };
        var nodes = reader.ReadList(array, path);
        errors.AddRange(reader.Errors);
        return nodes;
    }

    /// <summary>Reads an event criterion (kind, concepts, visitTypes, value, units) embedded in another document, as the first occurrence.</summary>
    internal static EventCriterion ReadEventCriterion(JsonElement element, string path, List<CriteriaError> errors)
    {
        var reader = new Reader(allowReferences: false);
        var criterion = reader.ReadFirstEvent(element, path);
        errors.AddRange(reader.Errors);
        return criterion;
    }

    /// <summary>Reads the concept set in the <c>concepts</c> field of <paramref name="parent"/>, embedded in another document.</summary>
    internal static List<ConceptItem> ReadConceptSet(JsonElement parent, string path, List<CriteriaError> errors)
    {
        var reader = new Reader(allowReferences: false);
        var concepts = reader.ReadConceptSet(parent, path);
        errors.AddRange(reader.Errors);
        return concepts;
    }

    private static ParseResult Fail(string path, string rule) => new(null, [new CriteriaError(path, rule)]);

    private static List<CriteriaError> ValidateAgainstSchema(JsonElement root)
    {
        var results = Schema.Value.Evaluate(root, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (results.IsValid)
        {
            return [];
        }

        var errors = new List<CriteriaError>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var detail in results.Details ?? [])
        {
            // An "if" that does not match is how the schema selects a node's shape, not an error in the document.
            if (detail.Errors is null || IsConditionBranch(detail.EvaluationPath.ToString()))
            {
                continue;
            }

            foreach (var (keyword, message) in detail.Errors)
            {
                var path = ToPath(detail.InstanceLocation.ToString());
                // additionalProperties: false reports the field itself against the "false" schema.
                var rule = keyword is "additionalProperties" or "false" || message.Contains("false schema", StringComparison.Ordinal)
                    ? "unknown field: not part of this node in version 1 of the criteria schema"
                    : message;
                if (seen.Add(path + "\u0000" + rule) && errors.Count < MaxErrors)
                {
                    errors.Add(new CriteriaError(path, rule));
                }
            }
        }

        if (errors.Count == 0)
        {
            errors.Add(new CriteriaError("", "the document does not match the criteria schema"));
        }

        return errors;
    }

    private static bool IsConditionBranch(string evaluationPath) =>
        evaluationPath.Split('/').Any(segment => segment == "if");

    /// <summary>A JSON Pointer (/criteria/2/any/0) as a node path (criteria[2].any[0]).</summary>
    internal static string ToPath(string pointer)
    {
        var builder = new StringBuilder();
        foreach (var raw in pointer.TrimStart('#').Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var segment = raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (segment.All(char.IsAsciiDigit))
            {
                builder.Append('[').Append(segment).Append(']');
            }
            else
            {
                if (builder.Length > 0)
                {
                    builder.Append('.');
                }

                builder.Append(segment);
            }
        }

        return builder.ToString();
    }

    private static JsonSchema LoadSchema() =>
        JsonSchema.FromText(SchemaText, new BuildOptions { SchemaRegistry = new SchemaRegistry() });

    private static string ReadSchemaText()
    {
        using var stream = typeof(SubgroupDefinitionParser).Assembly.GetManifestResourceStream("criteria.schema.json")
            ?? throw new InvalidOperationException("criteria.schema.json is not embedded in the warehouse assembly");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Builds the records from a document the schema accepted, checking what the schema cannot.</summary>
    private sealed class Reader(bool allowReferences)
    {
        private int _nodes;
        private bool _hasIndex;

        public List<CriteriaError> Errors { get; } = [];

        public bool HasIndex { init => _hasIndex = value; }

        public List<CriterionNode> ReadList(JsonElement array, string path) => ReadChildren(array, path, -1);

        public EventCriterion ReadFirstEvent(JsonElement element, string path) => ReadEvent(element, path, KindOf(element), Occurrence.First)!;

        public List<ConceptItem> ReadConceptSet(JsonElement parent, string path) => ReadConcepts(parent, path).Concepts;

        public SubgroupDefinition? ReadDefinition(JsonElement root)
        {
            string? name = root.TryGetProperty("name", out var n) ? n.GetString() : null;
            EventCriterion? index = null;
            if (root.TryGetProperty("index", out var indexElement))
            {
                _hasIndex = true;
                index = ReadIndex(indexElement, "index");
            }

            var criteria = new List<CriterionNode>();
            var i = 0;
            foreach (var element in root.GetProperty("criteria").EnumerateArray())
            {
                if (ReadNode(element, $"criteria[{i}]", 0) is { } node)
                {
                    criteria.Add(node);
                }

                i++;
            }

            return Errors.Count == 0 ? new SubgroupDefinition(AsInt(root.GetProperty("version")), name, index, criteria) : null;
        }

        private void Error(string path, string rule) => Errors.Add(new CriteriaError(path, rule));

        private EventCriterion? ReadIndex(JsonElement element, string path)
        {
            if (element.TryGetProperty("count", out _))
            {
                Error(path + ".count", "the index event takes no count: it is one date per person (its first or last occurrence)");
            }

            if (element.TryGetProperty("occurrence", out var occurrence) && occurrence.GetString() == "any")
            {
                Error(path + ".occurrence", "the index event is the first or the last occurrence, not any");
            }

            if (element.TryGetProperty("window", out var window) && (window.TryGetProperty("start", out _) || window.TryGetProperty("end", out _)))
            {
                Error(path + ".window", "the index event's window takes calendar dates (from, to) only: there is no index to be relative to");
            }

            var criterion = ReadEvent(element, path, KindOf(element), defaultOccurrence: Occurrence.First);
            return criterion;
        }

        private CriterionNode? ReadNode(JsonElement element, string path, int depth)
        {
            if (++_nodes == MaxNodes + 1)
            {
                Error(path, $"a definition has at most {MaxNodes} nodes (groups and criteria)");
            }

            if (depth > MaxGroupDepth)
            {
                Error(path, $"groups nest at most {MaxGroupDepth} levels deep");
                return null;
            }

            var label = element.TryGetProperty("label", out var l) ? l.GetString() : null;
            if (element.TryGetProperty("all", out var all))
            {
                return new AllNode(path, label, ReadChildren(all, path + ".all", depth));
            }

            if (element.TryGetProperty("any", out var any))
            {
                return new AnyNode(path, label, ReadChildren(any, path + ".any", depth));
            }

            if (element.TryGetProperty("not", out var not))
            {
                return ReadNode(not, path + ".not", depth + 1) is { } child ? new NotNode(path, label, child) : null;
            }

            var kind = KindOf(element);
            return kind switch
            {
                "age" => ReadAge(element, path, label),
                "sex" => new PersonAttributeCriterion(path, label, PersonAttribute.Sex, Ids(element, "concepts")),
                "race" => new PersonAttributeCriterion(path, label, PersonAttribute.Race, Ids(element, "concepts")),
                "ethnicity" => new PersonAttributeCriterion(path, label, PersonAttribute.Ethnicity, Ids(element, "concepts")),
                "variant" => ReadVariant(element, path, label),
                "genomicScore" => ReadScore(element, path, label),
                "wearable" => ReadWearable(element, path, label),
                "enrollment" => ReadEnrollment(element, path, label),
                "adherence" => ReadAdherence(element, path, label),
                "subgroup" => ReadSubgroupReference(element, path, label),
                _ => ReadEvent(element, path, kind, Occurrence.Any),
            };
        }

        private List<CriterionNode> ReadChildren(JsonElement array, string path, int depth)
        {
            var nodes = new List<CriterionNode>();
            var i = 0;
            foreach (var child in array.EnumerateArray())
            {
                if (ReadNode(child, $"{path}[{i}]", depth + 1) is { } node)
                {
                    nodes.Add(node);
                }

                i++;
            }

            return nodes;
        }

        private static string KindOf(JsonElement element) => element.GetProperty("kind").GetString()!;

        private AgeCriterion? ReadAge(JsonElement element, string path, string? label)
        {
            var min = OptionalInt(element, "min");
            var max = OptionalInt(element, "max");
            if (!_hasIndex)
            {
                Error(path, "age is the age at the index date: the definition needs an index event");
            }

            if (min is null && max is null)
            {
                Error(path, "age needs min, max or both");
            }
            else if (min > max)
            {
                Error(path + ".min", "min is greater than max");
            }

            return new AgeCriterion(path, label, min, max);
        }

        private EventCriterion? ReadEvent(JsonElement element, string path, string kind, Occurrence defaultOccurrence)
        {
            var domain = kind switch
            {
                "condition" => EventDomain.Condition,
                "drug" => EventDomain.Drug,
                "procedure" => EventDomain.Procedure,
                "observation" => EventDomain.Observation,
                "measurement" => EventDomain.Measurement,
                "visit" => EventDomain.Visit,
                _ => EventDomain.Pro,
            };
            var (concepts, sets) = ReadConcepts(element, path);
            var occurrence = element.TryGetProperty("occurrence", out var o)
                ? o.GetString() switch { "first" => Occurrence.First, "last" => Occurrence.Last, _ => Occurrence.Any }
                : defaultOccurrence;
            var count = ReadCount(element, path);
            if (occurrence != Occurrence.Any && element.TryGetProperty("count", out _))
            {
                Error(path + ".count", "a count applies to occurrence any: the first or last occurrence is one event");
            }

            var value = ReadRange(element, "value", path);
            if (domain == EventDomain.Pro && value is null)
            {
                Error(path, "a PRO criterion needs a value range (e.g. {\"lte\": 50})");
            }

            return new EventCriterion(path, element.TryGetProperty("label", out var l) ? l.GetString() : null,
                domain, concepts, occurrence, ReadWindow(element, path, required: false), count, value, Ids(element, "units"), Ids(element, "visitTypes"), sets.Count > 0 ? sets : null);
        }

        private VariantCriterion ReadVariant(JsonElement element, string path, string? label)
        {
            var gene = element.TryGetProperty("gene", out var g) ? g.GetString() : null;
            var criterion = new VariantCriterion(path, label, gene, Strings(element, "hgvsC"), Strings(element, "hgvsP"), Strings(element, "rsid"),
                Strings(element, "zygosity"), Strings(element, "significance"), ReadWindow(element, path, required: false), ReadCount(element, path));
            if (gene is null && criterion.HgvsC.Count == 0 && criterion.HgvsP.Count == 0 && criterion.Rsids.Count == 0
                && criterion.Zygosity.Count == 0 && criterion.Significance.Count == 0)
            {
                Error(path, "a variant criterion needs at least one of gene, hgvsC, hgvsP, rsid, zygosity, significance");
            }

            return criterion;
        }

        private GenomicScoreCriterion ReadScore(JsonElement element, string path, string? label)
        {
            var percentile = ReadRange(element, "percentile", path);
            var value = ReadRange(element, "value", path);
            if (percentile is null && value is null)
            {
                Error(path, "a genomic score criterion needs a percentile or a value range");
            }

            if (percentile is not null && new[] { percentile.Gte, percentile.Gt, percentile.Lte, percentile.Lt }.Any(v => v is < 0 or > 100))
            {
                Error(path + ".percentile", "percentiles lie between 0 and 100");
            }

            return new GenomicScoreCriterion(path, label, element.GetProperty("scoreId").GetString()!, percentile, value, ReadWindow(element, path, required: false));
        }

        private WearableCriterion ReadWearable(JsonElement element, string path, string? label)
        {
            var metric = element.GetProperty("metric").GetString() switch
            {
                "steps" => WearableMetric.Steps,
                "restingHeartRate" => WearableMetric.RestingHeartRate,
                "hrv" => WearableMetric.Hrv,
                _ => WearableMetric.SleepMinutes,
            };
            var window = ReadWindow(element, path, required: true)!;
            var minDays = OptionalInt(element, "minDaysWorn") ?? 1;
            if (window.Start is not null && window.End is not null && minDays > window.End - window.Start + 1)
            {
                Error(path + ".minDaysWorn", "more worn days are required than the window has days");
            }

            var mean = ReadRange(element, "mean", path);
            WearableBaseline? baseline = null;
            if (element.TryGetProperty("baseline", out var baselineElement))
            {
                var baselineWindow = ReadWindow(baselineElement, path + ".baseline", required: true)!;
                baseline = new WearableBaseline(baselineWindow, ReadRange(baselineElement, "changePercent", path + ".baseline")!);
            }

            if (mean is null && baseline is null)
            {
                Error(path, "a wearable criterion needs a mean range, a baseline with a change, or both");
            }

            return new WearableCriterion(path, label, metric, mean, minDays, window, baseline);
        }

        private AdherenceCriterion ReadAdherence(JsonElement element, string path, string? label)
        {
            var (concepts, sets) = ReadConcepts(element, path);
            var window = ReadWindow(element, path, required: true)!;
            var pdc = ReadRange(element, "pdc", path)!;
            if (new[] { pdc.Gte, pdc.Gt, pdc.Lte, pdc.Lt }.Any(v => v is < 0 or > 1))
            {
                Error(path + ".pdc", "the proportion of days covered is a fraction between 0 and 1");
            }

            return new AdherenceCriterion(path, label, concepts, window, pdc, sets.Count > 0 ? sets : null);
        }

        private (List<ConceptItem> Concepts, List<ConceptSetReference> Sets) ReadConcepts(JsonElement element, string path)
        {
            var concepts = new List<ConceptItem>();
            var sets = new List<ConceptSetReference>();
            var i = 0;
            foreach (var item in element.GetProperty("concepts").EnumerateArray())
            {
                var itemPath = $"{path}.concepts[{i++}]";
                if (item.TryGetProperty("conceptSet", out var set))
                {
                    if (!allowReferences)
                    {
                        Error(itemPath + ".conceptSet", ReferenceRefused("a saved concept set"));
                    }

                    sets.Add(new ConceptSetReference(itemPath, Guid.Parse(set.GetString()!)));
                    continue;
                }

                concepts.Add(new ConceptItem(
                    AsInt(item.GetProperty("id")),
                    !item.TryGetProperty("descendants", out var d) || d.GetBoolean(),
                    item.TryGetProperty("exclude", out var x) && x.GetBoolean()));
            }

            // With saved sets in the list the check waits for their expansion (the portal's resolution makes it).
            if (sets.Count == 0 && concepts.All(c => c.Exclude))
            {
                Error(path + ".concepts", "a concept set needs at least one concept that is not excluded");
            }

            return (concepts, sets);
        }

        private SubgroupCriterion ReadSubgroupReference(JsonElement element, string path, string? label)
        {
            if (!allowReferences)
            {
                Error(path, ReferenceRefused("a saved subgroup"));
            }

            return new SubgroupCriterion(path, label, Guid.Parse(element.GetProperty("id").GetString()!));
        }

        private static string ReferenceRefused(string what) =>
            $"{what} is an object of a tenant's library in the portal; a definition read from a file must be self-contained " +
            "(count it in the portal, or write its criteria in place)";

        private EnrollmentCriterion ReadEnrollment(JsonElement element, string path, string? label) =>
            new(path, label, ReadWindow(element, path, required: true)!, OptionalInt(element, "allowedGapDays") ?? 0);

        private Window? ReadWindow(JsonElement parent, string parentPath, bool required)
        {
            var path = parentPath + ".window";
            if (!parent.TryGetProperty("window", out var element))
            {
                if (required)
                {
                    Error(path, "this criterion needs a window");
                }

                return null;
            }

            var window = new Window(OptionalInt(element, "start"), OptionalInt(element, "end"), Date(element, "from", path), Date(element, "to", path));
            if (window.IsRelative && !_hasIndex)
            {
                Error(path + (window.Start is not null ? ".start" : ".end"), "a window relative to the index (start, end) needs an index event; use from/to for calendar dates");
            }

            if (window.Start > window.End)
            {
                Error(path + ".start", "start is after end");
            }

            if (window.From > window.To)
            {
                Error(path + ".from", "from is after to");
            }

            if (required)
            {
                if (!window.IsBounded)
                {
                    Error(path, "this criterion needs a bounded window: start and end, or from and to");
                }
                else if ((window.Start is not null && window.End - window.Start + 1 > MaxSummaryWindowDays)
                    || (window.From is not null && window.To!.Value.DayNumber - window.From.Value.DayNumber + 1 > MaxSummaryWindowDays))
                {
                    Error(path, $"this window is longer than {MaxSummaryWindowDays} days");
                }
            }

            return window;
        }

        private DateOnly? Date(JsonElement element, string name, string path)
        {
            if (!element.TryGetProperty(name, out var value))
            {
                return null;
            }

            if (DateOnly.TryParseExact(value.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
                && date.Year is >= 1800 and <= 2200)
            {
                return date;
            }

            Error(path + "." + name, "not a calendar date between 1800-01-01 and 2200-12-31 (yyyy-MM-dd)");
            return null;
        }

        private ValueRange? ReadRange(JsonElement parent, string name, string parentPath)
        {
            if (!parent.TryGetProperty(name, out var element))
            {
                return null;
            }

            var path = parentPath + "." + name;
            var range = new ValueRange(OptionalDouble(element, "gte"), OptionalDouble(element, "gt"), OptionalDouble(element, "lte"), OptionalDouble(element, "lt"));
            if (range.Gte is not null && range.Gt is not null)
            {
                Error(path, "give one lower bound: gte or gt");
            }

            if (range.Lte is not null && range.Lt is not null)
            {
                Error(path, "give one upper bound: lte or lt");
            }

            var lower = range.Gte ?? range.Gt;
            var upper = range.Lte ?? range.Lt;
            if (lower > upper || (lower == upper && (range.Gt is not null || range.Lt is not null)))
            {
                Error(path, "the range is empty: its lower bound is above its upper bound");
            }

            return range;
        }

        private CountRange ReadCount(JsonElement parent, string parentPath)
        {
            if (!parent.TryGetProperty("count", out var element))
            {
                return CountRange.AtLeastOne;
            }

            var min = OptionalInt(element, "min") ?? 1;
            var max = OptionalInt(element, "max");
            if (max is null && min == 0)
            {
                Error(parentPath + ".count.min", "min 0 without max holds for everyone: give a max, or use not");
            }

            if (min > max)
            {
                Error(parentPath + ".count.min", "min is greater than max");
            }

            return new CountRange(min, max);
        }

        /// <summary>An integer the schema accepted (JSON Schema counts 2.0 as an integer, which GetInt32 refuses).</summary>
        private static int AsInt(JsonElement value) => (int)value.GetDouble();

        private static int? OptionalInt(JsonElement element, string name) =>
            element.TryGetProperty(name, out var value) ? AsInt(value) : null;

        private static double? OptionalDouble(JsonElement element, string name) =>
            element.TryGetProperty(name, out var value) ? value.GetDouble() : null;

        private static List<int> Ids(JsonElement element, string name) =>
            element.TryGetProperty(name, out var array) ? array.EnumerateArray().Select(AsInt).Distinct().ToList() : [];

        private static List<string> Strings(JsonElement element, string name) =>
            element.TryGetProperty(name, out var array) ? array.EnumerateArray().Select(v => v.GetString()!).Distinct(StringComparer.Ordinal).ToList() : [];
    }
}
