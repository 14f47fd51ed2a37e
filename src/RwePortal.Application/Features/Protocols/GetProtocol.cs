using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Protocols;

/// <summary>
/// One protocol of the tenant with its whole record: every version (state, content hash, dates), each version's
/// revisions, reviews and signatures, the amendments log, and the document of one version (the latest unless asked).
/// <c>CanReview</c> says whether the current user may approve or reject the version shown (in review, not an author),
/// <c>CanEdit</c> whether they may save it (a draft or a rejected version), <c>CanAmend</c> whether they may amend it
/// (the approved version, no other version open).
/// </summary>
public static class GetProtocol
{
    [RequiresPermission(Permission.ViewProtocols)]
    public sealed record Query(Guid Id, int? Version = null) : IRequest<Result<Response>>;

    public sealed record Response(
        Guid Id,
        string Title,
        string CreatedBy,
        DateTimeOffset CreatedAt,
        string? ImportedFrom,
        int ShownVersion,
        string Document,
        bool CanReview,
        bool CanEdit,
        bool CanAmend,
        IReadOnlyList<VersionInfo> Versions,
        IReadOnlyList<AmendmentInfo> Amendments);

    public sealed record VersionInfo(
        int Version,
        ProtocolVersionState State,
        string? ContentHash,
        int Revision,
        string CreatedBy,
        DateTimeOffset CreatedAt,
        string? SubmittedBy,
        DateTimeOffset? SubmittedAt,
        DateTimeOffset? DecidedAt,
        DateTimeOffset? SupersededAt,
        int? SupersededByVersion,
        IReadOnlyList<RevisionInfo> Revisions,
        IReadOnlyList<ReviewInfo> Reviews,
        IReadOnlyList<SignatureInfo> Signatures);

    public sealed record RevisionInfo(int Revision, string Author, DateTimeOffset SavedAt);

    public sealed record ReviewInfo(string Reviewer, ProtocolReviewDecision Decision, string? Comment, string ContentHash, DateTimeOffset DecidedAt);

    public sealed record SignatureInfo(Guid Id, Guid SignerId, string PrintedName, DateTimeOffset SignedAt, string Meaning, string ContentHash);

    public sealed record AmendmentInfo(int FromVersion, int ToVersion, string Reason, string Author, DateTimeOffset CreatedAt);

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Id).NotEmpty();
            RuleFor(q => q.Version).GreaterThan(0);
        }
    }

    internal sealed class Handler(AppDbContext db, ICurrentUser currentUser) : IRequestHandler<Query, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            var user = await currentUser.GetAsync(cancellationToken);
            var protocol = ProtocolStore.TryTenant(db, user, out _)
                ? await db.Protocols.AsNoTracking().SingleOrDefaultAsync(p => p.Id == request.Id, cancellationToken)
                : null;
            if (protocol is null)
            {
                return ProtocolStore.NotFound();
            }

            var versions = await db.ProtocolVersions.AsNoTracking().Where(v => v.ProtocolId == protocol.Id).OrderBy(v => v.Version).ToListAsync(cancellationToken);
            var shown = versions.SingleOrDefault(v => v.Version == (request.Version ?? protocol.LatestVersion));
            if (shown is null)
            {
                return Error.NotFound("ProtocolVersion");
            }

            var ids = versions.Select(v => v.Id).ToList();
            var revisions = await db.ProtocolRevisions.AsNoTracking().Where(r => ids.Contains(r.VersionId)).OrderBy(r => r.Revision).ToListAsync(cancellationToken);
            var reviews = await db.ProtocolReviews.AsNoTracking().Where(r => ids.Contains(r.VersionId)).OrderBy(r => r.DecidedAt).ToListAsync(cancellationToken);
            var signatures = await db.ProtocolSignatures.AsNoTracking().Where(s => ids.Contains(s.VersionId)).OrderBy(s => s.SignedAt).ToListAsync(cancellationToken);
            var amendments = await db.ProtocolAmendments.AsNoTracking().Where(a => a.ProtocolId == protocol.Id).OrderBy(a => a.ToVersion).ToListAsync(cancellationToken);
            var names = await ProtocolStore.NamesAsync(
                db,
                versions.Select(v => v.CreatedBy)
                    .Concat(versions.Where(v => v.SubmittedBy != null).Select(v => v.SubmittedBy!.Value))
                    .Concat(revisions.Select(r => r.AuthorId))
                    .Concat(reviews.Select(r => r.ReviewerId))
                    .Concat(amendments.Select(a => a.AuthorId))
                    .Append(protocol.CreatedBy),
                cancellationToken);

            var shownAuthors = revisions.Where(r => r.VersionId == shown.Id).Select(r => r.AuthorId)
                .Append(shown.CreatedBy).Append(shown.SubmittedBy ?? Guid.Empty).ToHashSet();
            var canReview = shown.State == ProtocolVersionState.InReview && user.Has(Permission.ApproveProtocols) && !shownAuthors.Contains(user.UserId);
            var canEdit = user.Has(Permission.EditProtocols) && shown.State is ProtocolVersionState.Draft or ProtocolVersionState.Rejected;
            var canAmend = user.Has(Permission.EditProtocols) && shown.State == ProtocolVersionState.Approved
                && versions.All(v => v.State is ProtocolVersionState.Approved or ProtocolVersionState.Superseded);

            return new Response(
                protocol.Id,
                protocol.Title,
                ProtocolStore.NameOf(names, protocol.CreatedBy),
                protocol.CreatedAt,
                protocol.ImportedFrom,
                shown.Version,
                shown.Document,
                canReview,
                canEdit,
                canAmend,
                versions.Select(v => new VersionInfo(
                    v.Version,
                    v.State,
                    v.ContentHash,
                    v.Revision,
                    ProtocolStore.NameOf(names, v.CreatedBy),
                    v.CreatedAt,
                    v.SubmittedBy is { } submitter ? ProtocolStore.NameOf(names, submitter) : null,
                    v.SubmittedAt,
                    v.DecidedAt,
                    v.SupersededAt,
                    v.SupersededByVersion,
                    revisions.Where(r => r.VersionId == v.Id).Select(r => new RevisionInfo(r.Revision, ProtocolStore.NameOf(names, r.AuthorId), r.SavedAt)).ToList(),
                    reviews.Where(r => r.VersionId == v.Id)
                        .Select(r => new ReviewInfo(ProtocolStore.NameOf(names, r.ReviewerId), r.Decision, r.Comment, r.ContentHash, r.DecidedAt)).ToList(),
                    signatures.Where(s => s.VersionId == v.Id)
                        .Select(s => new SignatureInfo(s.Id, s.SignerId, s.PrintedName, s.SignedAt, s.Meaning, s.ContentHash)).ToList())).ToList(),
                amendments.Select(a => new AmendmentInfo(a.FromVersion, a.ToVersion, a.Reason, ProtocolStore.NameOf(names, a.AuthorId), a.CreatedAt)).ToList());
        }
    }
}
