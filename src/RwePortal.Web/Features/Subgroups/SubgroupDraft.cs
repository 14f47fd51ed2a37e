using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RwePortal.Web.Features.Subgroups;

/// <summary>
/// The subgroup the builder edits: the same document the CLI reads (docs/criteria.md, version 1). The builder's
/// editors change these objects; <see cref="ToJson"/> writes the definition and <see cref="FromJson"/> reads one back
/// (the JSON view, a saved subgroup). Only fields of the schema are written, and only those the kind takes.
/// </summary>
public sealed class SubgroupDraft
{
    public string? Name { get; set; }

    public string? Description { get; set; }

    /// <summary>The index event (an event criterion), or null: then every person is counted, without an index date.</summary>
    public CriterionDraft? Index { get; set; }

    public List<CriterionDraft> Criteria { get; } = [];

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public string ToJson()
    {
        var root = new JsonObject { ["version"] = 1 };
        if (!string.IsNullOrWhiteSpace(Name))
        {
            root["name"] = Name.Trim();
        }

        if (!string.IsNullOrWhiteSpace(Description))
        {
            root["description"] = Description.Trim();
        }

        if (Index is not null)
        {
            root["index"] = Index.ToJson(isIndex: true);
        }

        root["criteria"] = new JsonArray(Criteria.Select(c => (JsonNode)c.ToJson(isIndex: false)).ToArray());
        return root.ToJsonString(Indented);
    }

    /// <summary>Reads a definition; throws <see cref="JsonException"/> or <see cref="FormatException"/> on a document that is not one.</summary>
    public static SubgroupDraft FromJson(string json)
    {
        var root = JsonNode.Parse(json) as JsonObject ?? throw new FormatException("the definition is not a JSON object");
        var draft = new SubgroupDraft
        {
            Name = (string?)root["name"],
            Description = (string?)root["description"],
            Index = root["index"] is JsonObject index ? CriterionDraft.FromJson(index) : null,
        };
        if (root["criteria"] is JsonArray criteria)
        {
            draft.Criteria.AddRange(criteria.OfType<JsonObject>().Select(CriterionDraft.FromJson));
        }

        return draft;
    }
}

/// <summary>One node of the tree: a criterion of one kind, or a group (all, any, not) of further nodes.</summary>
public sealed class CriterionDraft
{
    public CriterionDraft(string kind)
    {
        Kind = kind;
        if (kind == "wearable")
        {
            Metric = "steps";
            MinDaysWorn = 1;
            Window = new WindowDraft { Mode = WindowMode.Relative, Start = -90, End = -1 };
            Mean.Upper = 3000;
            Mean.UpperStrict = true;
        }
        else if (kind is "enrollment")
        {
            Window = new WindowDraft { Mode = WindowMode.Relative, Start = -365, End = -1 };
        }
        else if (kind is "adherence")
        {
            Window = new WindowDraft { Mode = WindowMode.Relative, Start = 0, End = 364 };
            Pdc.Lower = 0.8;
        }
    }

    /// <summary>Stable identity while the draft is edited (component keys), never written.</summary>
    public Guid Key { get; } = Guid.NewGuid();

    public string Kind { get; set; }

    public string? Label { get; set; }

    public List<ConceptPick> Concepts { get; } = [];

    public int? AgeMin { get; set; }

    public int? AgeMax { get; set; }

    public WindowDraft Window { get; set; } = new();

    public string Occurrence { get; set; } = "any";

    public int? CountMin { get; set; }

    public int? CountMax { get; set; }

    public RangeDraft Value { get; } = new();

    public List<int> Units { get; } = [];

    public List<int> VisitTypes { get; } = [];

    public string? Gene { get; set; }

    public List<string> HgvsC { get; } = [];

    public List<string> HgvsP { get; } = [];

    public List<string> Rsids { get; } = [];

    public List<string> Zygosity { get; } = [];

    public List<string> Significance { get; } = [];

    public string? ScoreId { get; set; }

    /// <summary>The saved subgroup a <c>subgroup</c> criterion refers to (its id in the library).</summary>
    public string? SubgroupId { get; set; }

    public RangeDraft Percentile { get; } = new();

    public string Metric { get; set; } = "steps";

    public RangeDraft Mean { get; } = new();

    public int? MinDaysWorn { get; set; }

    public bool HasBaseline { get; set; }

    public WindowDraft BaselineWindow { get; set; } = new() { Mode = WindowMode.Relative, Start = -455, End = -366 };

    public RangeDraft ChangePercent { get; } = new();

    public int? AllowedGapDays { get; set; }

    public RangeDraft Pdc { get; } = new();

    /// <summary>Children of all / any; the single child of not.</summary>
    public List<CriterionDraft> Children { get; } = [];

    public CriterionKind Info => CriterionKind.Of(Kind);

    public JsonObject ToJson(bool isIndex)
    {
        if (Info.IsGroup)
        {
            var group = new JsonObject();
            if (!string.IsNullOrWhiteSpace(Label))
            {
                group["label"] = Label.Trim();
            }

            group[Kind] = Kind == "not"
                ? (Children.FirstOrDefault()?.ToJson(false) ?? new JsonObject())
                : new JsonArray(Children.Select(c => (JsonNode)c.ToJson(false)).ToArray());
            return group;
        }

        var node = new JsonObject { ["kind"] = Kind };
        if (!string.IsNullOrWhiteSpace(Label))
        {
            node["label"] = Label.Trim();
        }

        switch (Kind)
        {
            case "age":
                Put(node, "min", AgeMin);
                Put(node, "max", AgeMax);
                break;
            case "sex" or "race" or "ethnicity":
                node["concepts"] = new JsonArray(Concepts.Select(c => (JsonNode)JsonValue.Create(c.Id)).ToArray());
                break;
            case "variant":
                if (!string.IsNullOrWhiteSpace(Gene))
                {
                    node["gene"] = Gene.Trim();
                }

                PutList(node, "hgvsC", HgvsC);
                PutList(node, "hgvsP", HgvsP);
                PutList(node, "rsid", Rsids);
                PutList(node, "zygosity", Zygosity);
                PutList(node, "significance", Significance);
                PutWindow(node, "window", Window);
                PutCount(node);
                break;
            case "genomicScore":
                node["scoreId"] = ScoreId ?? "";
                PutRange(node, "percentile", Percentile);
                PutRange(node, "value", Value);
                PutWindow(node, "window", Window);
                break;
            case "wearable":
                node["metric"] = Metric;
                PutRange(node, "mean", Mean);
                Put(node, "minDaysWorn", MinDaysWorn);
                PutWindow(node, "window", Window);
                if (HasBaseline)
                {
                    var baseline = new JsonObject();
                    PutWindow(baseline, "window", BaselineWindow);
                    baseline["changePercent"] = ChangePercent.ToJson() ?? new JsonObject();
                    node["baseline"] = baseline;
                }

                break;
            case "enrollment":
                PutWindow(node, "window", Window);
                Put(node, "allowedGapDays", AllowedGapDays);
                break;
            case "subgroup":
                node["id"] = SubgroupId ?? "";
                break;
            case "adherence":
                node["concepts"] = ConceptsJson();
                PutWindow(node, "window", Window);
                node["pdc"] = Pdc.ToJson() ?? new JsonObject();
                break;
            default:
                // condition, drug, procedure, observation, measurement, visit, pro
                node["concepts"] = ConceptsJson();
                if (isIndex)
                {
                    node["occurrence"] = Occurrence == "last" ? "last" : "first";
                    PutWindow(node, "window", Window.Mode == WindowMode.Calendar ? Window : new WindowDraft());
                }
                else
                {
                    if (Occurrence != "any")
                    {
                        node["occurrence"] = Occurrence;
                    }

                    PutWindow(node, "window", Window);
                    if (Occurrence == "any")
                    {
                        PutCount(node);
                    }
                }

                if (Info.TakesValue)
                {
                    PutRange(node, "value", Value);
                    PutList(node, "units", Units);
                }

                if (Kind != "visit")
                {
                    PutList(node, "visitTypes", VisitTypes);
                }

                break;
        }

        return node;
    }

    private JsonArray ConceptsJson() => new(Concepts.Select(c =>
    {
        if (c.ConceptSet is not null)
        {
            return (JsonNode)new JsonObject { ["conceptSet"] = c.ConceptSet };
        }

        var item = new JsonObject { ["id"] = c.Id };
        if (Kind != "visit")
        {
            item["descendants"] = c.Descendants;
        }

        if (c.Exclude)
        {
            item["exclude"] = true;
        }

        return (JsonNode)item;
    }).ToArray());

    private void PutCount(JsonObject node)
    {
        if (CountMin is null && CountMax is null)
        {
            return;
        }

        var count = new JsonObject();
        Put(count, "min", CountMin);
        Put(count, "max", CountMax);
        node["count"] = count;
    }

    private static void Put(JsonObject node, string name, int? value)
    {
        if (value is not null)
        {
            node[name] = value.Value;
        }
    }

    private static void PutList<T>(JsonObject node, string name, List<T> values)
    {
        if (values.Count > 0)
        {
            node[name] = new JsonArray(values.Select(v => JsonValue.Create(v)).Cast<JsonNode?>().ToArray());
        }
    }

    private static void PutRange(JsonObject node, string name, RangeDraft range)
    {
        if (range.ToJson() is { } json)
        {
            node[name] = json;
        }
    }

    private static void PutWindow(JsonObject node, string name, WindowDraft window)
    {
        if (window.ToJson() is { } json)
        {
            node[name] = json;
        }
    }

    public static CriterionDraft FromJson(JsonObject node)
    {
        foreach (var group in new[] { "all", "any", "not" })
        {
            if (node[group] is { } children)
            {
                var draft = new CriterionDraft(group) { Label = (string?)node["label"] };
                draft.Children.AddRange(children is JsonArray array
                    ? array.OfType<JsonObject>().Select(FromJson)
                    : children is JsonObject single ? [FromJson(single)] : []);
                return draft;
            }
        }

        var kind = (string?)node["kind"] ?? throw new FormatException("a criterion has no kind");
        _ = CriterionKind.Of(kind);
        var c = new CriterionDraft(kind)
        {
            Label = (string?)node["label"],
            AgeMin = Whole(node["min"]),
            AgeMax = Whole(node["max"]),
            Window = WindowDraft.FromJson(node["window"] as JsonObject),
            Occurrence = (string?)node["occurrence"] ?? "any",
            CountMin = Whole(node["count"]?["min"]),
            CountMax = Whole(node["count"]?["max"]),
            Gene = (string?)node["gene"],
            ScoreId = (string?)node["scoreId"],
            SubgroupId = kind == "subgroup" ? (string?)node["id"] : null,
            Metric = (string?)node["metric"] ?? "steps",
            MinDaysWorn = Whole(node["minDaysWorn"]),
            AllowedGapDays = Whole(node["allowedGapDays"]),
        };
        c.Mean.Clear();
        c.Pdc.Clear();
        if (kind is "sex" or "race" or "ethnicity")
        {
            c.Concepts.AddRange((node["concepts"] as JsonArray ?? []).Select(id => new ConceptPick(Whole(id) ?? 0, null)));
        }
        else
        {
            c.Concepts.AddRange((node["concepts"] as JsonArray ?? []).OfType<JsonObject>().Select(item => new ConceptPick(Whole(item["id"]) ?? 0, null)
            {
                ConceptSet = (string?)item["conceptSet"],
                Descendants = (bool?)item["descendants"] ?? true,
                Exclude = (bool?)item["exclude"] ?? false,
            }));
        }

        c.Value.Read(node["value"] as JsonObject);
        c.Percentile.Read(node["percentile"] as JsonObject);
        c.Mean.Read(node["mean"] as JsonObject);
        c.Pdc.Read(node["pdc"] as JsonObject);
        c.Units.AddRange((node["units"] as JsonArray ?? []).Select(u => Whole(u) ?? 0));
        c.VisitTypes.AddRange((node["visitTypes"] as JsonArray ?? []).Select(u => Whole(u) ?? 0));
        c.HgvsC.AddRange(Strings(node["hgvsC"]));
        c.HgvsP.AddRange(Strings(node["hgvsP"]));
        c.Rsids.AddRange(Strings(node["rsid"]));
        c.Zygosity.AddRange(Strings(node["zygosity"]));
        c.Significance.AddRange(Strings(node["significance"]));
        if (node["baseline"] is JsonObject baseline)
        {
            c.HasBaseline = true;
            c.BaselineWindow = WindowDraft.FromJson(baseline["window"] as JsonObject);
            c.ChangePercent.Read(baseline["changePercent"] as JsonObject);
        }

        return c;
    }

    private static IEnumerable<string> Strings(JsonNode? node) =>
        (node as JsonArray ?? []).Select(v => v?.GetValueKind() == JsonValueKind.String ? (string)v! : v?.ToJsonString() ?? "");

    /// <summary>An integer as written (2 and 2.0 alike); anything else is not one.</summary>
    public static int? Whole(JsonNode? node) => node is JsonValue value && value.GetValueKind() == JsonValueKind.Number
        ? (int)Math.Clamp(value.GetValue<double>(), int.MinValue, int.MaxValue)
        : null;
}

/// <summary>
/// A concept of a concept set, with the name the concept search found (null when read from JSON); or, with
/// <see cref="ConceptSet"/>, a saved concept set of the library used in place.
/// </summary>
public sealed class ConceptPick(int id, string? name)
{
    public int Id { get; } = id;

    /// <summary>The id of a saved concept set (<c>{"conceptSet": "…"}</c>) instead of one concept.</summary>
    public string? ConceptSet { get; init; }

    public string? Name { get; set; } = name;

    public bool Descendants { get; set; } = true;

    public bool Exclude { get; set; }
}

public enum WindowMode
{
    AnyTime,
    Relative,
    Calendar,
}

/// <summary>A window: days relative to the index (start, end), or calendar dates (from, to), or none.</summary>
public sealed class WindowDraft
{
    public WindowMode Mode { get; set; }

    public int? Start { get; set; }

    public int? End { get; set; }

    public string? From { get; set; }

    public string? To { get; set; }

    public JsonObject? ToJson()
    {
        var window = new JsonObject();
        if (Mode == WindowMode.Relative)
        {
            if (Start is not null)
            {
                window["start"] = Start.Value;
            }

            if (End is not null)
            {
                window["end"] = End.Value;
            }
        }
        else if (Mode == WindowMode.Calendar)
        {
            if (!string.IsNullOrWhiteSpace(From))
            {
                window["from"] = From.Trim();
            }

            if (!string.IsNullOrWhiteSpace(To))
            {
                window["to"] = To.Trim();
            }
        }

        return window.Count == 0 ? null : window;
    }

    public static WindowDraft FromJson(JsonObject? node)
    {
        if (node is null)
        {
            return new WindowDraft();
        }

        var start = CriterionDraft.Whole(node["start"]);
        var end = CriterionDraft.Whole(node["end"]);
        var from = (string?)node["from"];
        var to = (string?)node["to"];
        return new WindowDraft
        {
            Mode = start is not null || end is not null ? WindowMode.Relative : from is not null || to is not null ? WindowMode.Calendar : WindowMode.AnyTime,
            Start = start,
            End = end,
            From = from,
            To = to,
        };
    }

    /// <summary>"−365 to −1 days from index", "2019-01-01 to 2019-12-31", "any time".</summary>
    public string Describe() => Mode switch
    {
        WindowMode.Relative => $"{Day(Start, "any time before")} to {Day(End, "any time after")} days from index",
        WindowMode.Calendar => $"{From ?? "…"} to {To ?? "…"}",
        _ => "any time",
    };

    private static string Day(int? day, string open) => day?.ToString("+0;−0;0", CultureInfo.InvariantCulture) ?? open;
}

/// <summary>A value range: at most one lower (≥ or &gt;) and one upper (≤ or &lt;) bound.</summary>
public sealed class RangeDraft
{
    public double? Lower { get; set; }

    public bool LowerStrict { get; set; }

    public double? Upper { get; set; }

    public bool UpperStrict { get; set; }

    public bool IsEmpty => Lower is null && Upper is null;

    public void Clear()
    {
        Lower = null;
        Upper = null;
        LowerStrict = false;
        UpperStrict = false;
    }

    public JsonObject? ToJson()
    {
        if (IsEmpty)
        {
            return null;
        }

        var range = new JsonObject();
        if (Lower is not null)
        {
            range[LowerStrict ? "gt" : "gte"] = Lower.Value;
        }

        if (Upper is not null)
        {
            range[UpperStrict ? "lt" : "lte"] = Upper.Value;
        }

        return range;
    }

    public void Read(JsonObject? node)
    {
        if (node is null)
        {
            return;
        }

        Lower = Number(node["gt"]) ?? Number(node["gte"]);
        LowerStrict = node["gt"] is not null;
        Upper = Number(node["lt"]) ?? Number(node["lte"]);
        UpperStrict = node["lt"] is not null;
    }

    /// <summary>"≥ 18 and &lt; 3000".</summary>
    public string Describe() => string.Join(" and ", new[]
    {
        Lower is null ? null : $"{(LowerStrict ? ">" : "≥")} {Lower.Value.ToString(CultureInfo.InvariantCulture)}",
        Upper is null ? null : $"{(UpperStrict ? "<" : "≤")} {Upper.Value.ToString(CultureInfo.InvariantCulture)}",
    }.Where(p => p is not null));

    private static double? Number(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.Number ? value.GetValue<double>() : null;
}
