using FluentValidation;
using MediatR;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Protocols;

/// <summary>
/// Rejects a version in review, with the reviewer's comments (required: the authors need to know what to change).
/// The reviewer is not an author of the version. The authors then save it again as a draft and resubmit.
/// </summary>
public static class RejectProtocolVersion
{
    [RequiresPermission(Permission.ApproveProtocols)]
    public sealed record Command(Guid ProtocolId, int Version, string Comment) : IRequest<Result<Response>>, IAuditTarget
    {
        public string AuditTarget => $"protocol {ProtocolId} v{Version}";
    }

    public sealed record Response(int Version, ProtocolVersionState State, DateTimeOffset DecidedAt);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.ProtocolId).NotEmpty();
            RuleFor(c => c.Version).GreaterThan(0);
            RuleFor(c => c.Comment).NotEmpty().MaximumLength(4000).Must(c => !string.IsNullOrWhiteSpace(c))
                .WithMessage("Say why the version is rejected.");
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

            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var protocol = await ProtocolStore.LockAsync(db, request.ProtocolId, cancellationToken);
            var version = protocol is null ? null : await ProtocolStore.VersionAsync(db, protocol.Id, request.Version, cancellationToken);
            if (protocol is null || version is null)
            {
                return ProtocolStore.NotFound();
            }

            if (version.State != ProtocolVersionState.InReview)
            {
                return ProtocolStore.NotInReview(version);
            }

            if ((await ProtocolStore.AuthorsAsync(db, version, cancellationToken)).Contains(user.UserId))
            {
                return ProtocolStore.AuthorCannotReview();
            }

            var now = DateTimeOffset.UtcNow;
            db.ProtocolReviews.Add(new ProtocolReview
            {
                TenantId = tenantId,
                VersionId = version.Id,
                ReviewerId = user.UserId,
                Decision = ProtocolReviewDecision.Rejected,
                Comment = request.Comment.Trim(),
                ContentHash = version.ContentHash!,
                DecidedAt = now,
            });
            await db.SaveChangesAsync(cancellationToken);
            version.State = ProtocolVersionState.Rejected;
            version.DecidedAt = now;
            version.UpdatedAt = now;
            protocol.UpdatedAt = now;
            await db.SaveChangesAsync(cancellationToken);
            await audit.RecordChangeAsync(
                db,
                new AuditRecord(AuditEventTypes.Command, $"{nameof(RejectProtocolVersion)}: {ProtocolStore.AuditTarget(protocol, version.Version)}", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["before"] = new { state = nameof(ProtocolVersionState.InReview) },
                    ["after"] = new { state = version.State.ToString(), content_hash = version.ContentHash, comment = request.Comment.Trim() },
                }),
                cancellationToken: cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(version.Version, version.State, now);
        }
    }
}
