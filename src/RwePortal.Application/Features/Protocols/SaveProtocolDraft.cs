using FluentValidation;
using MediatR;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Protocols;

/// <summary>
/// Saves a draft: every save is a new revision (author, time, the document as saved), earlier ones stay readable.
/// A rejected version saved again becomes a draft again. A version in review, approved or superseded is refused.
/// With <c>ExpectedRevision</c> the save is refused when someone else saved in between (the editor reloads).
/// </summary>
public static class SaveProtocolDraft
{
    [RequiresPermission(Permission.EditProtocols)]
    public sealed record Command(Guid ProtocolId, int Version, string Document, int? ExpectedRevision = null, string? Title = null)
        : IRequest<Result<Response>>, IAuditTarget
    {
        public string AuditTarget => $"protocol {ProtocolId} v{Version}";
    }

    /// <summary>The saved revision; <paramref name="Missing"/> is what submission would still refuse, per component.</summary>
    public sealed record Response(int Version, int Revision, ProtocolVersionState State, IReadOnlyList<ProtocolIssue> Missing);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.ProtocolId).NotEmpty();
            RuleFor(c => c.Version).GreaterThan(0);
            RuleFor(c => c.Document).NotEmpty().MaximumLength(ProtocolDocuments.MaxDocumentLength);
            RuleFor(c => c.ExpectedRevision).GreaterThan(0);
            RuleFor(c => c.Title).MaximumLength(300).Must(t => t is null || !string.IsNullOrWhiteSpace(t)).WithMessage("A protocol needs a title.");
        }
    }

    internal sealed class Handler(AppDbContext db, ICurrentUser currentUser, IAuditTrail audit) : IRequestHandler<Command, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Command request, CancellationToken cancellationToken)
        {
            var user = await currentUser.GetAsync(cancellationToken);
            if (!ProtocolStore.TryTenant(db, user, out _))
            {
                return ProtocolStore.NotFound();
            }

            var draft = ProtocolDocuments.CheckDraft(request.Document);
            if (!draft.IsValid)
            {
                return ProtocolErrors.Invalid(draft.Errors);
            }

            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var protocol = await ProtocolStore.LockAsync(db, request.ProtocolId, cancellationToken);
            var version = protocol is null ? null : await ProtocolStore.VersionAsync(db, protocol.Id, request.Version, cancellationToken);
            if (protocol is null || version is null)
            {
                return ProtocolStore.NotFound();
            }

            switch (version.State)
            {
                case ProtocolVersionState.InReview:
                    return ProtocolStore.InReview(version);
                case ProtocolVersionState.Approved or ProtocolVersionState.Superseded:
                    return ProtocolStore.Locked(version);
            }

            if (request.ExpectedRevision is { } expected && expected != version.Revision)
            {
                return new Error("Protocol.Conflict", $"Version {version.Version} was saved by someone else since revision {expected} (now {version.Revision}); reload it.");
            }

            var before = new { title = protocol.Title, state = version.State.ToString(), revision = version.Revision };
            var now = DateTimeOffset.UtcNow;
            version.State = ProtocolVersionState.Draft;
            version.ContentHash = null;
            version.SubmittedBy = null;
            version.SubmittedAt = null;
            version.DecidedAt = null;
            db.ProtocolRevisions.Add(ProtocolStore.Revise(version, request.Document, user.UserId, now));
            if (request.Title is { } title)
            {
                protocol.Title = title.Trim();
            }

            protocol.UpdatedAt = now;
            await db.SaveChangesAsync(cancellationToken);
            await audit.RecordChangeAsync(
                db,
                new AuditRecord(AuditEventTypes.Command, $"{nameof(SaveProtocolDraft)}: {ProtocolStore.AuditTarget(protocol, version.Version)}", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["before"] = before,
                    ["after"] = new { title = protocol.Title, state = version.State.ToString(), revision = version.Revision },
                }),
                cancellationToken: cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(version.Version, version.Revision, version.State, ProtocolDocuments.CheckComplete(request.Document).Errors);
        }
    }
}
