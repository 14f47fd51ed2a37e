using System.Text.Json;
using System.Text.Json.Nodes;
using FluentValidation;
using MediatR;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Protocols;

/// <summary>
/// Imports a protocol into the current tenant as a new protocol whose version 1 is a draft: a file written by
/// <see cref="ExportProtocolVersion"/> (from this or another tenant or source) or a bare protocol document. The file
/// is untrusted input: every problem is refused with its node path (<c>document.eligibility…</c>), and a document
/// exported as submitted or approved must be complete and match its content hash. Approvals do not travel: the
/// signatures of another tenant are kept only as provenance, and the protocol is reviewed again here.
/// </summary>
public static class ImportProtocol
{
    [RequiresPermission(Permission.EditProtocols)]
    public sealed record Command(string Json, string? Title = null) : IRequest<Result<Response>>, IAuditTarget
    {
        public string AuditTarget => Title is null ? "imported protocol" : $"imported protocol '{Title}'";
    }

    /// <summary>The new protocol; <paramref name="Missing"/> is what submission would still refuse, per component.</summary>
    public sealed record Response(Guid Id, string Title, int Version, int Revision, IReadOnlyList<ProtocolIssue> Missing);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.Json).NotEmpty().MaximumLength(ProtocolDocuments.MaxDocumentLength * 2);
            RuleFor(c => c.Title).MaximumLength(300).Must(t => t is null || !string.IsNullOrWhiteSpace(t)).WithMessage("A protocol needs a title.");
        }
    }

    internal sealed class Handler(AppDbContext db, ICurrentUser currentUser, IAuditTrail audit) : IRequestHandler<Command, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Command request, CancellationToken cancellationToken)
        {
            var user = await currentUser.GetAsync(cancellationToken);
            if (!ProtocolStore.TryTenant(db, user, out var tenantId))
            {
                return ProtocolStore.NotFound();
            }

            var read = Read(request.Json);
            if (!read.Succeeded)
            {
                return read.Error!;
            }

            var file = read.Value!;
            var title = (request.Title ?? file.Title ?? ProtocolDocuments.TitleOf(file.Document) ?? "Imported protocol").Trim();
            if (title.Length is 0 or > 300)
            {
                return ProtocolErrors.Invalid([new ProtocolIssue("file", "protocol.title", "a title has 1 to 300 characters")]);
            }

            var now = DateTimeOffset.UtcNow;
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var protocol = new Protocol
            {
                TenantId = tenantId,
                Title = title,
                CreatedBy = user.UserId,
                CreatedAt = now,
                UpdatedAt = now,
                LatestVersion = 1,
                ImportedFrom = file.Provenance?.ToJsonString(),
            };
            var version = new ProtocolVersion
            {
                TenantId = tenantId,
                ProtocolId = protocol.Id,
                Version = 1,
                State = ProtocolVersionState.Draft,
                CreatedBy = user.UserId,
                CreatedAt = now,
            };
            db.Protocols.Add(protocol);
            db.ProtocolVersions.Add(version);
            await db.SaveChangesAsync(cancellationToken);
            db.ProtocolRevisions.Add(ProtocolStore.Revise(version, file.Document, user.UserId, now));
            await db.SaveChangesAsync(cancellationToken);
            await audit.RecordChangeAsync(
                db,
                new AuditRecord(AuditEventTypes.Command, $"{nameof(ImportProtocol)}: {ProtocolStore.AuditTarget(protocol, 1)}", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["before"] = null,
                    ["after"] = new { version = 1, state = version.State.ToString(), revision = version.Revision },
                    ["imported_from"] = file.Provenance is null ? null : JsonDocument.Parse(file.Provenance.ToJsonString()).RootElement,
                }),
                cancellationToken: cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(protocol.Id, title, 1, version.Revision, ProtocolDocuments.CheckComplete(file.Document).Errors);
        }
    }

    /// <summary>What an import file holds: the document to keep, the title it names, and where it came from.</summary>
    internal sealed record ImportFile(string Document, string? Title, JsonObject? Provenance);

    /// <summary>Reads an export file or a bare document, refusing with node paths.</summary>
    internal static Result<ImportFile> Read(string json)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException exception)
        {
            return ProtocolErrors.Invalid([new ProtocolIssue("file", "", $"not valid JSON: {exception.Message}")]);
        }

        if (root is not JsonObject envelope)
        {
            return ProtocolErrors.Invalid([new ProtocolIssue("file", "", "an import is a JSON object")]);
        }

        if (!envelope.ContainsKey("format"))
        {
            var bare = ProtocolDocuments.CheckDraft(json);
            return bare.IsValid ? new ImportFile(json, null, null) : ProtocolErrors.Invalid(bare.Errors);
        }

        var issues = new List<ProtocolIssue>();
        if (StringAt(envelope, "format") != ExportProtocolVersion.Format)
        {
            issues.Add(new ProtocolIssue("file", "format", $"must be \"{ExportProtocolVersion.Format}\""));
        }

        if (envelope["formatVersion"] is not JsonValue formatVersion || !formatVersion.TryGetValue<int>(out var number) || number != ExportProtocolVersion.FormatVersion)
        {
            issues.Add(new ProtocolIssue("file", "formatVersion", $"must be {ExportProtocolVersion.FormatVersion}"));
        }

        var metadata = envelope["protocol"] as JsonObject;
        if (envelope.ContainsKey("protocol") && metadata is null)
        {
            issues.Add(new ProtocolIssue("file", "protocol", "must be an object"));
        }

        if (envelope["document"] is not JsonObject documentNode)
        {
            issues.Add(new ProtocolIssue("file", "document", "must be the protocol document (a JSON object)"));
            return ProtocolErrors.Invalid(issues);
        }

        var title = metadata is null ? null : StringAt(metadata, "title");
        if (metadata is not null && metadata.ContainsKey("title") && title is null)
        {
            issues.Add(new ProtocolIssue("file", "protocol.title", "must be a string"));
        }

        var state = metadata is null ? null : StringAt(metadata, "state");
        var claimedHash = metadata is null ? null : StringAt(metadata, "contentHash");
        var document = documentNode.ToJsonString();

        // A document that was submitted or approved where it came from must arrive complete and unaltered.
        var mustBeComplete = claimedHash is not null || state is "InReview" or "Approved" or "Superseded";
        if (mustBeComplete)
        {
            var complete = ProtocolDocuments.CheckComplete(document);
            issues.AddRange(complete.Errors.Select(Under));
            if (complete.IsValid)
            {
                document = complete.Canonical!;
                if (claimedHash is null)
                {
                    issues.Add(new ProtocolIssue("file", "protocol.contentHash", $"a {state} version carries its content hash"));
                }
                else if (!string.Equals(claimedHash, complete.Hash, StringComparison.Ordinal))
                {
                    issues.Add(new ProtocolIssue("file", "protocol.contentHash", $"does not match the document (its hash is {complete.Hash}): the document was altered after export"));
                }
            }
        }
        else
        {
            issues.AddRange(ProtocolDocuments.CheckDraft(document).Errors.Select(Under));
        }

        if (issues.Count > 0)
        {
            return ProtocolErrors.Invalid(issues);
        }

        var provenance = new JsonObject
        {
            ["protocolId"] = metadata?["id"]?.DeepClone(),
            ["title"] = title,
            ["version"] = metadata?["version"]?.DeepClone(),
            ["state"] = state,
            ["contentHash"] = claimedHash,
            ["exportedAt"] = envelope["exportedAt"]?.DeepClone(),
            ["signatures"] = metadata?["signatures"]?.DeepClone(),
        };
        return new ImportFile(document, title, provenance);
    }

    private static ProtocolIssue Under(ProtocolIssue issue) =>
        issue with { Path = issue.Path.Length == 0 ? "document" : "document." + issue.Path };

    private static string? StringAt(JsonObject obj, string name) =>
        obj[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
