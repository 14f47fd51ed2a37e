using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RwePortal.Application.Features.Protocols;

/// <summary>A problem with a protocol document: the component it is in, the node path and the rule.</summary>
public sealed record ProtocolIssue(string Component, string Path, string Message);

/// <summary>A document checked as a draft or as a complete protocol; a valid complete one has its canonical form and hash.</summary>
internal sealed record CheckedDocument(bool IsValid, string? Canonical, string? Hash, IReadOnlyList<ProtocolIssue> Errors);

/// <summary>One component of a document in canonical, indented JSON (what the diff compares line by line).</summary>
internal sealed record DocumentComponent(string Name, string Json);

/// <summary>
/// The governance slices' one view of the protocol model: validation (complete or draft), the canonical form and its
/// hash, the components. Everything the slices know about the document's content goes through here.
/// </summary>
internal static class ProtocolDocuments
{
    public const int MaxDocumentLength = 1_000_000;

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A new protocol's first draft.</summary>
    public static string EmptyDraft(string title) => new JsonObject { ["title"] = title }.ToJsonString(Compact);

    /// <summary>Whether the document is a complete, valid protocol; if so its canonical JSON and that JSON's hash.</summary>
    public static CheckedDocument CheckComplete(string json)
    {
        if (!TryParseObject(json, out var root, out var error))
        {
            return new CheckedDocument(false, null, null, [error!]);
        }

        var canonical = Canonical(root!)!.ToJsonString(Compact);
        return new CheckedDocument(true, canonical, Hash(canonical), []);
    }

    /// <summary>Whether the document can be kept as a draft (it may still be incomplete).</summary>
    public static CheckedDocument CheckDraft(string json) =>
        TryParseObject(json, out _, out var error) ? new CheckedDocument(true, null, null, []) : new CheckedDocument(false, null, null, [error!]);

    /// <summary>The components of a document in canonical, indented JSON, in the model's order.</summary>
    public static IReadOnlyList<DocumentComponent> Components(string json)
    {
        if (!TryParseObject(json, out var root, out _))
        {
            return [new DocumentComponent("document", json)];
        }

        return ((JsonObject)Canonical(root!)!).Select(p => new DocumentComponent(p.Key, p.Value?.ToJsonString(Indented) ?? "null")).ToList();
    }

    /// <summary>The title the document gives itself, if any.</summary>
    public static string? TitleOf(string json) =>
        TryParseObject(json, out var root, out _) && root!["title"] is JsonValue value && value.TryGetValue<string>(out var title) ? title : null;

    /// <summary>Lower-case hex SHA-256 of the UTF-8 bytes of a canonical document (what signatures bind).</summary>
    public static string Hash(string canonical) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));

    private static bool TryParseObject(string json, out JsonObject? root, out ProtocolIssue? error)
    {
        root = null;
        error = null;
        try
        {
            if (JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 64 }) is JsonObject parsed)
            {
                root = parsed;
                return true;
            }

            error = new ProtocolIssue("document", "$", "a protocol is a JSON object");
        }
        catch (JsonException exception)
        {
            error = new ProtocolIssue("document", "$", $"not valid JSON: {exception.Message}");
        }

        return false;
    }

    private static JsonNode? Canonical(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, Canonical(p.Value)))),
        JsonArray array => new JsonArray(array.Select(Canonical).ToArray()),
        _ => node?.DeepClone(),
    };
}
