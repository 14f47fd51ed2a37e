using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using RwePortal.Warehouse.Protocols;
using RwePortal.Web.Features.Subgroups;

namespace RwePortal.Web.Features.Protocols;

/// <summary>
/// The editor's working copy of a protocol document: typed fields read and write nodes by path
/// (<c>strategies.newUser.washoutDays</c>), a component can be replaced by its JSON, and the whole document read back
/// from the JSON tab. Nodes the editor has no field for are kept as they are.
/// </summary>
public sealed class ProtocolDraftDocument
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private JsonObject _root;

    public ProtocolDraftDocument(string json)
    {
        _root = Parse(json);
    }

    public string ToJson() => _root.ToJsonString();

    public string ToIndentedJson() => _root.ToJsonString(Indented);

    /// <summary>The document as the parser reads a draft (components not yet complete are null).</summary>
    public ProtocolDefinition? Definition => ProtocolParser.ParseDraft(ToJson()).Protocol;

    /// <summary>Replaces the whole document; throws <see cref="JsonException"/> or <see cref="FormatException"/> when the text is not a JSON object.</summary>
    public void Replace(string json) => _root = Parse(json);

    public string ComponentJson(string component) => _root[component]?.ToJsonString(Indented) ?? "";

    /// <summary>Replaces one component (empty text removes it); throws <see cref="JsonException"/> or <see cref="FormatException"/>.</summary>
    public void SetComponentJson(string component, string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            _root.Remove(component);
            return;
        }

        _root[component] = JsonNode.Parse(text) as JsonObject ?? throw new FormatException($"{component} is a JSON object");
    }

    public string? Text(string path) => Node(path) is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    public int? Number(string path) => Node(path) is JsonValue value && value.TryGetValue<int>(out var number) ? number : null;

    public bool? Flag(string path) => Node(path) is JsonValue value && value.TryGetValue<bool>(out var flag) ? flag : null;

    public bool Has(string path) => Node(path) is not null;

    public void SetText(string path, string? text) => Set(path, string.IsNullOrWhiteSpace(text) ? null : JsonValue.Create(text.Trim()));

    public void SetNumber(string path, int? number) => Set(path, number is null ? null : JsonValue.Create(number.Value));

    public void SetFlag(string path, bool? flag) => Set(path, flag is null ? null : JsonValue.Create(flag.Value));

    public void SetObject(string path, bool present) => Set(path, present ? Node(path) as JsonObject ?? new JsonObject() : null);

    /// <summary>The numbers of a list node as text ("90, 180, 365").</summary>
    public string Numbers(string path) =>
        Node(path) is JsonArray array ? string.Join(", ", array.OfType<JsonValue>().Select(v => v.ToJsonString())) : "";

    /// <summary>Sets a list of whole numbers from text; words that are not numbers are dropped.</summary>
    public void SetNumbers(string path, string? text)
    {
        var numbers = (text ?? "").Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries)
            .Select(part => int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? (int?)n : null)
            .OfType<int>()
            .ToList();
        Set(path, numbers.Count == 0 ? null : new JsonArray(numbers.Select(n => (JsonNode)JsonValue.Create(n)).ToArray()));
    }

    /// <summary>A concept set node (<c>[{ "id": 1, "descendants": true }]</c>) as the subgroup builder's picks.</summary>
    public List<ConceptPick> Concepts(string path) =>
        (Node(path) as JsonArray ?? []).OfType<JsonObject>()
            .Select(item => new ConceptPick(item["id"] is JsonValue id && id.TryGetValue<int>(out var n) ? n : 0, null)
            {
                Descendants = item["descendants"] is JsonValue d && d.TryGetValue<bool>(out var descendants) && descendants,
                Exclude = item["exclude"] is JsonValue e && e.TryGetValue<bool>(out var exclude) && exclude,
            })
            .ToList();

    public void SetConcepts(string path, IEnumerable<ConceptPick> picks)
    {
        var items = picks.Where(p => p.ConceptSet is null).Select(p =>
        {
            var item = new JsonObject { ["id"] = p.Id, ["descendants"] = p.Descendants };
            if (p.Exclude)
            {
                item["exclude"] = true;
            }

            return (JsonNode)item;
        }).ToArray();
        Set(path, new JsonArray(items));
    }

    /// <summary>Sets a list of criteria nodes (the subgroup builder's JSON); null removes the list.</summary>
    public void SetCriteria(string path, IEnumerable<JsonObject>? criteria) =>
        Set(path, criteria is null ? null : new JsonArray(criteria.Select(c => (JsonNode)c).ToArray()));

    private static JsonObject Parse(string json) =>
        JsonNode.Parse(json) as JsonObject ?? throw new FormatException("a protocol is a JSON object");

    private JsonNode? Node(string path)
    {
        JsonNode? node = _root;
        foreach (var name in path.Split('.'))
        {
            node = node is JsonObject obj ? obj[name] : null;
        }

        return node;
    }

    private void Set(string path, JsonNode? value)
    {
        var names = path.Split('.');
        var parent = _root;
        foreach (var name in names[..^1])
        {
            if (parent[name] is not JsonObject child)
            {
                if (value is null)
                {
                    return;
                }

                child = new JsonObject();
                parent[name] = child;
            }

            parent = child;
        }

        if (value is null)
        {
            parent.Remove(names[^1]);
        }
        else
        {
            parent[names[^1]] = value;
        }
    }
}
