using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Protocols;

/// <summary>
/// Amends the approved version: the next version opens as a draft holding the approved content, with the reason in
/// the amendments log. The approved version stays the protocol of record until the amendment is approved. One open
/// version (draft, in review or rejected) at a time.
/// </summary>
public static class AmendProtocol
{
    [RequiresPermission(Permission.EditProtocols)]
    public sealed record Command(Guid ProtocolId, int FromVersion, string Reason) : IRequest<Result<Response>>, IAuditTarget
    {
        public string AuditTarget => $"protocol {ProtocolId} v{FromVersion}";
    }

    public sealed record Response(int FromVersion, int Version, int Revision);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.ProtocolId).NotEmpty();
            RuleFor(c => c.FromVersion).GreaterThan(0);
            RuleFor(c => c.Reason).NotEmpty().MaximumLength(4000).Must(r => !string.IsNullOrWhiteSpace(r))
                .WithMessage("An amendment gives its reason.");
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
            var from = protocol is null ? null : await ProtocolStore.VersionAsync(db, protocol.Id, request.FromVersion, cancellationToken);
            if (protocol is null || from is null)
            {
                return ProtocolStore.NotFound();
            }

            if (from.State != ProtocolVersionState.Approved)
            {
                return new Error("Protocol.NotApproved", $"Version {from.Version} is not the approved version; amend the protocol of record.");
            }

            var open = await db.ProtocolVersions
                .Where(v => v.ProtocolId == protocol.Id && (v.State == ProtocolVersionState.Draft || v.State == ProtocolVersionState.InReview || v.State == ProtocolVersionState.Rejected))
                .Select(v => (int?)v.Version)
                .FirstOrDefaultAsync(cancellationToken);
            if (open is { } openVersion)
            {
                return new Error("Protocol.OpenVersion", $"Version {openVersion} is still open; finish or revise it instead of opening another.");
            }

            var now = DateTimeOffset.UtcNow;
            var next = protocol.LatestVersion + 1;
            var version = new ProtocolVersion
            {
                TenantId = tenantId,
                ProtocolId = protocol.Id,
                Version = next,
                State = ProtocolVersionState.Draft,
                CreatedBy = user.UserId,
                CreatedAt = now,
            };
            db.ProtocolVersions.Add(version);
            protocol.LatestVersion = next;
            protocol.UpdatedAt = now;
            await db.SaveChangesAsync(cancellationToken);
            db.ProtocolRevisions.Add(ProtocolStore.Revise(version, from.Document, user.UserId, now));
            var reason = request.Reason.Trim();
            db.ProtocolAmendments.Add(new ProtocolAmendment
            {
                TenantId = tenantId,
                ProtocolId = protocol.Id,
                FromVersion = from.Version,
                ToVersion = next,
                Reason = reason,
                AuthorId = user.UserId,
                CreatedAt = now,
            });
            await db.SaveChangesAsync(cancellationToken);
            await audit.RecordChangeAsync(
                db,
                new AuditRecord(AuditEventTypes.Command, $"{nameof(AmendProtocol)}: {ProtocolStore.AuditTarget(protocol, next)}", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["before"] = new { latest_version = from.Version },
                    ["after"] = new { latest_version = next, state = version.State.ToString(), amended_from = from.Version, reason },
                }),
                cancellationToken: cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(from.Version, next, version.Revision);
        }
    }
}
