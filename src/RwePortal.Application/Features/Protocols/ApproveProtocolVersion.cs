using System.Text;
using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Protocols;

/// <summary>
/// Approves a version in review by electronic signature (21 CFR Part 11 style). The reviewer is not an author of
/// the version and enters their password again; a wrong password signs nothing (the refusal is on the audit trail
/// and counts towards lockout). The signature records the signer, their printed name, the database server's UTC
/// time, its meaning and the version's content hash; the version is then approved and locked, and the approved
/// version before it, if any, superseded. The database refuses an approval without such a signature.
/// </summary>
public static class ApproveProtocolVersion
{
    [RequiresPermission(Permission.ApproveProtocols)]
    public sealed record Command(Guid ProtocolId, int Version, string Password, string? Comment = null) : IRequest<Result<Response>>, IAuditTarget
    {
        public string AuditTarget => $"protocol {ProtocolId} v{Version}";

        // The password never appears where a record is printed (logs, exceptions, debuggers).
        private bool PrintMembers(StringBuilder builder)
        {
            builder.Append($"ProtocolId = {ProtocolId}, Version = {Version}, Password = ***, Comment = {Comment}");
            return true;
        }
    }

    public sealed record Response(int Version, string ContentHash, Guid SignatureId, string PrintedName, DateTimeOffset SignedAt, string Meaning, int? SupersededVersion);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.ProtocolId).NotEmpty();
            RuleFor(c => c.Version).GreaterThan(0);
            RuleFor(c => c.Password).NotEmpty().WithMessage("Enter your password to sign.");
            RuleFor(c => c.Comment).MaximumLength(4000);
        }
    }

    internal sealed class Handler(AppDbContext db, ICurrentUser currentUser, IAuditTrail audit, IReauthenticationService reauthentication)
        : IRequestHandler<Command, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Command request, CancellationToken cancellationToken)
        {
            var user = await currentUser.GetAsync(cancellationToken);
            if (!ProtocolStore.TryTenant(db, user, out var tenantId))
            {
                return ProtocolStore.NotFound();
            }

            // Who may sign is settled before the password is asked for: an author learns nothing from trying.
            var checkedVersion = await CheckAsync(user, request, cancellationToken);
            if (!checkedVersion.Succeeded)
            {
                return checkedVersion.Error!;
            }

            var outcome = await reauthentication.VerifyAsync(user.UserId, request.Password, cancellationToken);
            if (outcome != ReauthenticationOutcome.Verified)
            {
                return outcome switch
                {
                    ReauthenticationOutcome.LockedOut => new Error("Protocol.SignatureLockedOut", "Too many wrong passwords: your account is locked for a while. Nothing was signed."),
                    ReauthenticationOutcome.NotAllowed => new Error("Protocol.SignatureNotAllowed", "Your account may not sign. Nothing was signed."),
                    _ => new Error("Protocol.WrongPassword", "The password is not right. Nothing was signed."),
                };
            }

            // Read again under the protocol's lock: someone may have decided on the version while the password was checked.
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var recheck = await CheckAsync(user, request, cancellationToken);
            if (!recheck.Succeeded)
            {
                return recheck.Error!;
            }

            var (protocol, version) = recheck.Value;
            var names = await ProtocolStore.NamesAsync(db, [user.UserId], cancellationToken);
            var now = DateTimeOffset.UtcNow;
            var signature = new ProtocolSignature
            {
                TenantId = tenantId,
                VersionId = version.Id,
                SignerId = user.UserId,
                PrintedName = names.TryGetValue(user.UserId, out var name) ? name : user.Email,
                SignedAt = now,
                Meaning = ProtocolSignature.ApprovedMeaning,
                ContentHash = version.ContentHash!,
            };
            db.ProtocolSignatures.Add(signature);
            db.ProtocolReviews.Add(new ProtocolReview
            {
                TenantId = tenantId,
                VersionId = version.Id,
                ReviewerId = user.UserId,
                Decision = ProtocolReviewDecision.Approved,
                Comment = string.IsNullOrWhiteSpace(request.Comment) ? null : request.Comment.Trim(),
                ContentHash = version.ContentHash!,
                DecidedAt = now,
            });

            // The version of record until now steps down first: one approved version per protocol at any moment.
            var previous = await db.ProtocolVersions.SingleOrDefaultAsync(v => v.ProtocolId == protocol.Id && v.State == ProtocolVersionState.Approved, cancellationToken);
            if (previous is not null)
            {
                previous.State = ProtocolVersionState.Superseded;
                previous.SupersededAt = now;
                previous.SupersededByVersion = version.Version;
            }

            await db.SaveChangesAsync(cancellationToken);
            version.State = ProtocolVersionState.Approved;
            version.DecidedAt = now;
            version.UpdatedAt = now;
            protocol.UpdatedAt = now;
            await db.SaveChangesAsync(cancellationToken);

            // The database stamped the signature with its own clock.
            await db.Entry(signature).ReloadAsync(cancellationToken);
            await audit.RecordChangeAsync(
                db,
                new AuditRecord(AuditEventTypes.Command, $"{nameof(ApproveProtocolVersion)}: {ProtocolStore.AuditTarget(protocol, version.Version)}", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["before"] = new { state = nameof(ProtocolVersionState.InReview), approved_version = previous?.Version },
                    ["after"] = new
                    {
                        state = version.State.ToString(),
                        content_hash = version.ContentHash,
                        signature = new { id = signature.Id, printed_name = signature.PrintedName, signed_at = signature.SignedAt, meaning = signature.Meaning },
                        superseded_version = previous?.Version,
                    },
                }),
                cancellationToken: cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(version.Version, version.ContentHash!, signature.Id, signature.PrintedName, signature.SignedAt, signature.Meaning, previous?.Version);
        }

        private async Task<Result<(Protocol Protocol, ProtocolVersion Version)>> CheckAsync(UserContext user, Command request, CancellationToken cancellationToken)
        {
            var protocol = db.Database.CurrentTransaction is null
                ? await db.Protocols.SingleOrDefaultAsync(p => p.Id == request.ProtocolId, cancellationToken)
                : await ProtocolStore.LockAsync(db, request.ProtocolId, cancellationToken);
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

            return (protocol, version);
        }
    }
}
