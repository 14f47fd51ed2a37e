using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using RwePortal.Warehouse.Protocols;

namespace RwePortal.Application.Features.Protocols;

/// <summary>
/// A problem with a protocol document: the component it is in (general, eligibility, …, or <c>file</c> for an
/// import file's own fields), the node path (e.g. <c>strategies.treatment.concepts[0].id</c>) and the rule.
/// </summary>
public sealed record ProtocolIssue(string Component, string Path, string Message)
{
    internal static ProtocolIssue From(ProtocolError error) => new(error.Component, error.Path, error.Message);
}

/// <summary>A document checked as a draft or as a complete protocol; a valid complete one has its canonical form and hash.</summary>
internal sealed record CheckedDocument(bool IsValid, string? Canonical, string? Hash, IReadOnlyList<ProtocolIssue> Errors);

/// <summary>One component of a document in canonical, indented JSON (what the diff compares line by line).</summary>
internal sealed record DocumentComponent(string Name, string Json);

/// <summary>
/// The governance slices' one view of the protocol model (RwePortal.Warehouse.Protocols): validation complete or as a
/// draft, the canonical form and its hash (<see cref="ProtocolCanonical"/>), the components.
/// </summary>
internal static class ProtocolDocuments
{
    public const int MaxDocumentLength = ProtocolParser.MaxDocumentLength;

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A new protocol's first draft: the model's version and the title.</summary>
    public static string EmptyDraft(string title) =>
        new JsonObject { ["version"] = 1, [ProtocolComponents.General] = new JsonObject { ["title"] = title } }.ToJsonString();

    /// <summary>Whether the document is a complete, valid protocol (<see cref="ProtocolParser.Parse"/>); if so its canonical JSON and hash.</summary>
    public static CheckedDocument CheckComplete(string json)
    {
        var parsed = ProtocolParser.Parse(json);
        return parsed is { IsValid: true, Protocol: { } protocol }
            ? new CheckedDocument(true, ProtocolCanonical.Json(protocol), ProtocolCanonical.Hash(protocol), [])
            : new CheckedDocument(false, null, null, parsed.Errors.Select(ProtocolIssue.From).ToList());
    }

    /// <summary>Whether the document can be kept as a draft (<see cref="ProtocolParser.ParseDraft"/>: it may still be incomplete).</summary>
    public static CheckedDocument CheckDraft(string json)
    {
        var parsed = ProtocolParser.ParseDraft(json);
        return parsed.IsValid ? new CheckedDocument(true, null, null, []) : new CheckedDocument(false, null, null, parsed.Errors.Select(ProtocolIssue.From).ToList());
    }

    /// <summary>
    /// The components of a document in the model's order, each its canonical JSON indented one property per line.
    /// A stored document the parser no longer reads (it cannot be, while drafts are checked on save) is one component.
    /// </summary>
    public static IReadOnlyList<DocumentComponent> Components(string json)
    {
        var parsed = ProtocolParser.ParseDraft(json);
        if (parsed.Protocol is not { } protocol)
        {
            return [new DocumentComponent("document", json)];
        }

        return protocol.Components.Select(c => new DocumentComponent(c.Key, JsonNode.Parse(c.Value)!.ToJsonString(Indented))).ToList();
    }

    /// <summary>The title the document gives itself, if any.</summary>
    public static string? TitleOf(string json) => ProtocolParser.ParseDraft(json).Protocol?.General?.Title;

    /// <summary>Lower-case hex SHA-256 of the UTF-8 bytes of a stored document (equal to its content hash while intact).</summary>
    public static string Hash(string document) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(document)));
}
