using DiffPlex;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;
using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Protocols;

/// <summary>
/// Compares two versions of a protocol component by component: each component's canonical, indented JSON is diffed
/// line by line (DiffPlex), so a reviewer sees which components changed and exactly which lines.
/// </summary>
public static class CompareProtocolVersions
{
    [RequiresPermission(Permission.ViewProtocols)]
    public sealed record Query(Guid ProtocolId, int FromVersion, int ToVersion) : IRequest<Result<Response>>;

    public sealed record Response(int FromVersion, int ToVersion, IReadOnlyList<ComponentDiff> Components)
    {
        public bool Changed => Components.Any(c => c.Changed);
    }

    /// <summary>One component: whether it changed, and its lines (unchanged, inserted in the later version, deleted from the earlier).</summary>
    public sealed record ComponentDiff(string Component, bool Changed, IReadOnlyList<DiffLine> Lines);

    public enum LineChange
    {
        Unchanged,
        Inserted,
        Deleted,
    }

    /// <summary>A line and its number in the earlier (<c>FromLine</c>) and later (<c>ToLine</c>) version, where it is in them.</summary>
    public sealed record DiffLine(LineChange Change, int? FromLine, int? ToLine, string Text);

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.ProtocolId).NotEmpty();
            RuleFor(q => q.FromVersion).GreaterThan(0);
            RuleFor(q => q.ToVersion).GreaterThan(0);
        }
    }

    internal sealed class Handler(AppDbContext db, ICurrentUser currentUser) : IRequestHandler<Query, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            var user = await currentUser.GetAsync(cancellationToken);
            if (!ProtocolStore.TryTenant(db, user, out _))
            {
                return ProtocolStore.NotFound();
            }

            var documents = await db.ProtocolVersions.AsNoTracking()
                .Where(v => v.ProtocolId == request.ProtocolId && (v.Version == request.FromVersion || v.Version == request.ToVersion))
                .ToDictionaryAsync(v => v.Version, v => v.Document, cancellationToken);
            if (!documents.TryGetValue(request.FromVersion, out var from) || !documents.TryGetValue(request.ToVersion, out var to))
            {
                return ProtocolStore.NotFound();
            }

            return new Response(request.FromVersion, request.ToVersion, Diff(from, to));
        }
    }

    /// <summary>The per-component diff of two documents, components in the later document's order, removed ones last.</summary>
    internal static IReadOnlyList<ComponentDiff> Diff(string fromDocument, string toDocument)
    {
        var before = ProtocolDocuments.Components(fromDocument).ToDictionary(c => c.Name, c => c.Json, StringComparer.Ordinal);
        var after = ProtocolDocuments.Components(toDocument);
        var names = after.Select(c => c.Name).Concat(before.Keys.Where(k => after.All(c => c.Name != k))).ToList();
        var afterByName = after.ToDictionary(c => c.Name, c => c.Json, StringComparer.Ordinal);
        var builder = new SideBySideDiffBuilder(new Differ());
        return names.Select(name =>
        {
            var oldText = before.GetValueOrDefault(name) ?? "";
            var newText = afterByName.GetValueOrDefault(name) ?? "";
            return new ComponentDiff(name, !string.Equals(oldText, newText, StringComparison.Ordinal), Lines(builder.BuildDiffModel(oldText, newText, ignoreWhitespace: false)));
        }).ToList();
    }

    private static List<DiffLine> Lines(SideBySideDiffModel model)
    {
        // Side by side: a changed line is a deletion on the left and an insertion on the right.
        var lines = new List<DiffLine>();
        for (var i = 0; i < Math.Max(model.OldText.Lines.Count, model.NewText.Lines.Count); i++)
        {
            var left = i < model.OldText.Lines.Count ? model.OldText.Lines[i] : null;
            var right = i < model.NewText.Lines.Count ? model.NewText.Lines[i] : null;
            if (left is { Type: ChangeType.Unchanged } && right is { Type: ChangeType.Unchanged })
            {
                lines.Add(new DiffLine(LineChange.Unchanged, left.Position, right.Position, left.Text));
                continue;
            }

            if (left is { Type: ChangeType.Deleted or ChangeType.Modified })
            {
                lines.Add(new DiffLine(LineChange.Deleted, left.Position, null, left.Text));
            }

            if (right is { Type: ChangeType.Inserted or ChangeType.Modified })
            {
                lines.Add(new DiffLine(LineChange.Inserted, null, right.Position, right.Text));
            }
        }

        return lines;
    }
}
