using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Protocols;

/// <summary>
/// Checks that a submitted or approved version is what was signed: the stored document's hash is recomputed and
/// compared with the version's content hash and with the hash each signature is bound to, and the document is
/// checked to still be in canonical form. A mismatch means the content changed behind the lock (an owner who turned
/// the database's triggers off); the answer names what no longer matches.
/// </summary>
public static class VerifyProtocolVersion
{
    [RequiresPermission(Permission.ViewProtocols)]
    public sealed record Query(Guid ProtocolId, int Version) : IRequest<Result<Response>>;

    public sealed record Response(
        int Version,
        ProtocolVersionState State,
        string? StoredHash,
        string RecomputedHash,
        bool DocumentMatchesHash,
        bool DocumentIsCanonical,
        IReadOnlyList<SignatureCheck> Signatures)
    {
        /// <summary>Whether the document, its hash and every signature agree.</summary>
        public bool Intact => StoredHash is not null && DocumentMatchesHash && DocumentIsCanonical && Signatures.All(s => s.Matches);
    }

    public sealed record SignatureCheck(Guid Id, string PrintedName, DateTimeOffset SignedAt, string ContentHash, bool Matches);

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.ProtocolId).NotEmpty();
            RuleFor(q => q.Version).GreaterThan(0);
        }
    }

    internal sealed class Handler(AppDbContext db, ICurrentUser currentUser) : IRequestHandler<Query, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            var user = await currentUser.GetAsync(cancellationToken);
            var version = ProtocolStore.TryTenant(db, user, out _)
                ? await db.ProtocolVersions.AsNoTracking().SingleOrDefaultAsync(v => v.ProtocolId == request.ProtocolId && v.Version == request.Version, cancellationToken)
                : null;
            if (version is null)
            {
                return ProtocolStore.NotFound();
            }

            var signatures = await db.ProtocolSignatures.AsNoTracking().Where(s => s.VersionId == version.Id).OrderBy(s => s.SignedAt).ToListAsync(cancellationToken);
            var recomputed = ProtocolDocuments.Hash(version.Document);
            var canonical = ProtocolDocuments.CheckComplete(version.Document);
            return new Response(
                version.Version,
                version.State,
                version.ContentHash,
                recomputed,
                string.Equals(recomputed, version.ContentHash, StringComparison.Ordinal),
                canonical.IsValid && string.Equals(canonical.Canonical, version.Document, StringComparison.Ordinal),
                signatures.Select(s => new SignatureCheck(s.Id, s.PrintedName, s.SignedAt, s.ContentHash, string.Equals(s.ContentHash, recomputed, StringComparison.Ordinal))).ToList());
        }
    }
}
