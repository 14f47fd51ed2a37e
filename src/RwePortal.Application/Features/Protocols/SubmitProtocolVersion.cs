using FluentValidation;
using MediatR;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Protocols;

/// <summary>
/// Sends a draft for review. Only a complete, valid protocol goes: otherwise nothing changes and the response lists
/// what is missing or inconsistent, per component with node paths. A submitted version holds the canonical document
/// and its content hash, and its content is fixed (in the database too) until a reviewer decides.
/// </summary>
public static class SubmitProtocolVersion
{
    [RequiresPermission(Permission.EditProtocols)]
    public sealed record Command(Guid ProtocolId, int Version) : IRequest<Result<Response>>, IAuditTarget
    {
        public string AuditTarget => $"protocol {ProtocolId} v{Version}";
    }

    /// <summary>Submitted with its content hash, or not, with the errors per component.</summary>
    public sealed record Response(bool Submitted, string? ContentHash, IReadOnlyList<ProtocolIssue> Errors) : IAuditOutcome
    {
        public string AuditOutcome => Submitted ? AuditOutcomes.Success : "Protocol.Incomplete";
    }

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.ProtocolId).NotEmpty();
            RuleFor(c => c.Version).GreaterThan(0);
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
                case ProtocolVersionState.Rejected:
                    return new Error("Protocol.Rejected", $"Version {version.Version} was rejected; save it as a draft again before submitting it.");
            }

            var complete = ProtocolDocuments.CheckComplete(version.Document);
            if (!complete.IsValid)
            {
                return new Response(false, null, complete.Errors);
            }

            var now = DateTimeOffset.UtcNow;
            version.Document = complete.Canonical!;
            version.ContentHash = complete.Hash;
            version.State = ProtocolVersionState.InReview;
            version.SubmittedBy = user.UserId;
            version.SubmittedAt = now;
            version.UpdatedAt = now;
            protocol.UpdatedAt = now;
            await db.SaveChangesAsync(cancellationToken);
            await audit.RecordChangeAsync(
                db,
                new AuditRecord(AuditEventTypes.Command, $"{nameof(SubmitProtocolVersion)}: {ProtocolStore.AuditTarget(protocol, version.Version)}", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["before"] = new { state = nameof(ProtocolVersionState.Draft), revision = version.Revision },
                    ["after"] = new { state = version.State.ToString(), revision = version.Revision, content_hash = version.ContentHash },
                }),
                cancellationToken: cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(true, version.ContentHash, []);
        }
    }
}
