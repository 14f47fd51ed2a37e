using FluentValidation;
using MediatR;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Protocols;

/// <summary>
/// Starts a protocol in the current tenant: version 1 as a draft, its first revision authored by the current user.
/// The document may be incomplete (drafts are); without one the draft holds only the title.
/// </summary>
public static class CreateProtocol
{
    [RequiresPermission(Permission.EditProtocols)]
    public sealed record Command(string Title, string? Document = null) : IRequest<Result<Response>>, IAuditTarget
    {
        public string AuditTarget => $"new protocol '{Title}'";
    }

    /// <summary>The new protocol; <paramref name="Missing"/> is what submission would still refuse, per component.</summary>
    public sealed record Response(Guid Id, int Version, int Revision, IReadOnlyList<ProtocolIssue> Missing);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.Title).NotEmpty().MaximumLength(300).Must(t => !string.IsNullOrWhiteSpace(t)).WithMessage("A protocol needs a title.");
            RuleFor(c => c.Document).MaximumLength(ProtocolDocuments.MaxDocumentLength);
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

            var title = request.Title.Trim();
            var document = request.Document ?? ProtocolDocuments.EmptyDraft(title);
            var draft = ProtocolDocuments.CheckDraft(document);
            if (!draft.IsValid)
            {
                return ProtocolErrors.Invalid(draft.Errors);
            }

            var now = DateTimeOffset.UtcNow;
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var protocol = new Protocol { TenantId = tenantId, Title = title, CreatedBy = user.UserId, CreatedAt = now, UpdatedAt = now, LatestVersion = 1 };
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
            db.ProtocolRevisions.Add(ProtocolStore.Revise(version, document, user.UserId, now));
            await db.SaveChangesAsync(cancellationToken);
            await audit.RecordChangeAsync(
                db,
                new AuditRecord(AuditEventTypes.Command, $"{nameof(CreateProtocol)}: {ProtocolStore.AuditTarget(protocol, 1)}", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["before"] = null,
                    ["after"] = new { version = 1, state = version.State.ToString(), revision = version.Revision },
                }),
                cancellationToken: cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(protocol.Id, 1, version.Revision, ProtocolDocuments.CheckComplete(document).Errors);
        }
    }
}
