using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Protocols;

/// <summary>
/// A version as a machine-readable JSON file: the document (canonical from submission on) and its metadata (title,
/// version, state, content hash, signatures, amendments). <see cref="ImportProtocol"/> reads it back, in this or another
/// tenant, and checks the document against the hash. Every export is on the audit trail.
/// </summary>
public static class ExportProtocolVersion
{
    public const string Format = "rweportal.protocol";

    public const int FormatVersion = 1;

    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [RequiresPermission(Permission.ViewProtocols)]
    public sealed record Query(Guid ProtocolId, int Version) : IRequest<Result<Response>>;

    public sealed record Response(string FileName, string Json);

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.ProtocolId).NotEmpty();
            RuleFor(q => q.Version).GreaterThan(0);
        }
    }

    internal sealed class Handler(AppDbContext db, ICurrentUser currentUser, IAuditTrail audit) : IRequestHandler<Query, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            var user = await currentUser.GetAsync(cancellationToken);
            var protocol = ProtocolStore.TryTenant(db, user, out _)
                ? await db.Protocols.AsNoTracking().SingleOrDefaultAsync(p => p.Id == request.ProtocolId, cancellationToken)
                : null;
            var version = protocol is null
                ? null
                : await db.ProtocolVersions.AsNoTracking().SingleOrDefaultAsync(v => v.ProtocolId == protocol.Id && v.Version == request.Version, cancellationToken);
            if (protocol is null || version is null)
            {
                return ProtocolStore.NotFound();
            }

            var signatures = await db.ProtocolSignatures.AsNoTracking().Where(s => s.VersionId == version.Id).OrderBy(s => s.SignedAt).ToListAsync(cancellationToken);
            var amendments = await db.ProtocolAmendments.AsNoTracking()
                .Where(a => a.ProtocolId == protocol.Id && a.ToVersion <= version.Version)
                .OrderBy(a => a.ToVersion)
                .ToListAsync(cancellationToken);
            JsonNode? document;
            try
            {
                document = JsonNode.Parse(version.Document);
            }
            catch (JsonException)
            {
                document = JsonValue.Create(version.Document);
            }

            var exportedAt = DateTimeOffset.UtcNow;
            var envelope = new JsonObject
            {
                ["format"] = Format,
                ["formatVersion"] = FormatVersion,
                ["exportedAt"] = exportedAt,
                ["protocol"] = new JsonObject
                {
                    ["id"] = protocol.Id,
                    ["title"] = protocol.Title,
                    ["version"] = version.Version,
                    ["state"] = version.State.ToString(),
                    ["contentHash"] = version.ContentHash,
                    ["submittedAt"] = version.SubmittedAt,
                    ["decidedAt"] = version.DecidedAt,
                    ["signatures"] = new JsonArray(signatures.Select(s => (JsonNode)new JsonObject
                    {
                        ["printedName"] = s.PrintedName,
                        ["signedAt"] = s.SignedAt,
                        ["meaning"] = s.Meaning,
                        ["contentHash"] = s.ContentHash,
                    }).ToArray()),
                    ["amendments"] = new JsonArray(amendments.Select(a => (JsonNode)new JsonObject
                    {
                        ["fromVersion"] = a.FromVersion,
                        ["toVersion"] = a.ToVersion,
                        ["reason"] = a.Reason,
                        ["createdAt"] = a.CreatedAt,
                    }).ToArray()),
                },
                ["document"] = document,
            };

            var fileName = $"protocol-{Slug(protocol.Title)}-v{version.Version}.json";
            await audit.RecordAsync(
                new AuditRecord(AuditEventTypes.Export, $"{nameof(ExportProtocolVersion)}: {ProtocolStore.AuditTarget(protocol, version.Version)}", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["file"] = fileName,
                    ["state"] = version.State.ToString(),
                    ["content_hash"] = version.ContentHash,
                }),
                cancellationToken);
            return new Response(fileName, envelope.ToJsonString(Options));
        }
    }

    private static string Slug(string title)
    {
        var slug = new string(title.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray()).Trim('-');
        while (slug.Contains("--", StringComparison.Ordinal))
        {
            slug = slug.Replace("--", "-", StringComparison.Ordinal);
        }

        return slug.Length == 0 ? "untitled" : slug[..Math.Min(slug.Length, 60)].Trim('-');
    }
}
