using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Features.ConceptSets;
using RwePortal.Application.Security;
using RwePortal.Warehouse.Cohorts;

namespace RwePortal.Application.Features.Subgroups;

/// <summary>
/// A library object a resolved definition used, at the revision it used (what a count's audit records): its kind
/// (<c>subgroup</c> or <c>conceptSet</c>), whether the definition names it itself (<c>Direct</c>) or only through a
/// subgroup it refers to, and the node path of the reference.
/// </summary>
public sealed record LibraryRevision(string Kind, Guid Id, string Name, int Revision, SubgroupVisibility Visibility, bool Direct, string Path);

/// <summary>A definition with every library reference resolved, ready to compile, and the revisions it used.</summary>
public sealed record ResolvedSubgroup(SubgroupDefinition Definition, IReadOnlyList<LibraryRevision> Used);

/// <summary>
/// Turns a definition that refers to the tenant's library into a self-contained one, as the current user sees the
/// library: a concept set reference becomes the set's items from its CURRENT revision (in place in the concept list),
/// a subgroup reference carries that subgroup's current definition, itself resolved (its own index and windows).
/// References must exist, be the user's or shared with the tenant, and not be deleted; chains of subgroups are at
/// most <see cref="SubgroupDefinitionParser.MaxReferenceDepth"/> deep, draw in at most
/// <see cref="SubgroupDefinitionParser.MaxReferencedSubgroups"/> subgroups and never refer back to themselves.
/// Every refusal names the node path. Whatever does not exist or is not visible answers the same, so an id of
/// another user's private object or another tenant's tells nothing.
/// </summary>
public sealed class SubgroupReferences(TenantDbContextFactory contexts, ICurrentUser currentUser)
{
    private static readonly JsonSerializerOptions ItemJson = new(JsonSerializerDefaults.Web);

    /// <summary>Parses and resolves <paramref name="definition"/> for counting or characterizing it.</summary>
    public async Task<Result<ResolvedSubgroup>> ResolveAsync(string definition, CancellationToken cancellationToken)
    {
        // A context of its own, bound when called: the caller may be a request or a job bound to its user and tenant.
        var user = await currentUser.GetAsync(cancellationToken);
        await using var db = await contexts.CreateAsync(cancellationToken);
        return await ResolveAsync(db, user, definition, saving: null, cancellationToken);
    }

    /// <summary>Resolves as <paramref name="user"/> on <paramref name="context"/>; <paramref name="saving"/> is the subgroup being saved (a reference back to it is a cycle).</summary>
    internal static async Task<Result<ResolvedSubgroup>> ResolveAsync(
        AppDbContext context, UserContext user, string definition, Guid? saving, CancellationToken cancellationToken)
    {
        var parsed = SubgroupDefinitionParser.Parse(definition, allowReferences: true);
        if (!parsed.IsValid)
        {
            return Error.Validation(parsed.Errors.Select(e => e.ToString()));
        }

        var resolver = new Resolver(context, user.UserId, saving);
        var resolved = await resolver.ResolveAsync(parsed.Definition!, [], "", cancellationToken);
        return resolver.Errors.Count > 0
            ? Error.Validation(resolver.Errors.Take(SubgroupDefinitionParser.MaxErrors).Select(e => e.ToString()))
            : new ResolvedSubgroup(Unwrapped(resolved), resolver.Used);
    }

    /// <summary>
    /// A definition that is nothing but membership of one saved subgroup is that subgroup: the same statement, so the
    /// same attrition and the same small-cell noise (wrapping a subgroup in references gives no fresh noise to average).
    /// </summary>
    private static SubgroupDefinition Unwrapped(SubgroupDefinition definition)
    {
        while (definition is { Index: null, Criteria: [SubgroupCriterion { Definition: { } inner }] })
        {
            definition = inner;
        }

        return definition;
    }

    /// <summary>
    /// The library references written in a definition (not followed into the subgroups they name), with their node
    /// paths: what a read-only view lists beside the criteria. A definition that does not parse has none.
    /// </summary>
    internal static IReadOnlyList<(string Kind, Guid Id, string Path)> Written(string definition)
    {
        var parsed = SubgroupDefinitionParser.Parse(definition, allowReferences: true);
        var found = new List<(string, Guid, string)>();
        void Visit(CriterionNode? node)
        {
            switch (node)
            {
                case AllNode all:
                    all.Nodes.ToList().ForEach(Visit);
                    break;
                case AnyNode any:
                    any.Nodes.ToList().ForEach(Visit);
                    break;
                case NotNode not:
                    Visit(not.Node);
                    break;
                case SubgroupCriterion s:
                    found.Add(("subgroup", s.Id, s.Path));
                    break;
                case EventCriterion { ConceptSets: { } sets }:
                    found.AddRange(sets.Select(c => ("conceptSet", c.Id, c.Path)));
                    break;
                case AdherenceCriterion { ConceptSets: { } sets }:
                    found.AddRange(sets.Select(c => ("conceptSet", c.Id, c.Path)));
                    break;
            }
        }

        if (parsed.Definition is { } d)
        {
            Visit(d.Index);
            d.Criteria.ToList().ForEach(Visit);
        }

        return found;
    }

    /// <summary>The saved concept set's items as JSON (one format for every revision).</summary>
    internal static string ItemsToJson(IReadOnlyList<ConceptSetItem> items) => JsonSerializer.Serialize(items, ItemJson);

    internal static List<ConceptSetItem> ItemsFromJson(string json) => JsonSerializer.Deserialize<List<ConceptSetItem>>(json, ItemJson) ?? [];

    private sealed class Resolver(AppDbContext db, Guid userId, Guid? saving)
    {
        private readonly Dictionary<Guid, (string Name, int Revision, SubgroupVisibility Visibility, List<ConceptSetItem> Items)?> _sets = [];
        private int _subgroups;

        public List<CriteriaError> Errors { get; } = [];

        public List<LibraryRevision> Used { get; } = [];

        /// <summary>
        /// Resolves one definition; <c>chain</c> holds the subgroups (ids and names) whose definitions lead here,
        /// outermost first, and <c>prefix</c> places errors inside a referenced subgroup in the outer document.
        /// </summary>
        public async Task<SubgroupDefinition> ResolveAsync(SubgroupDefinition definition, List<(Guid Id, string Name)> chain, string prefix, CancellationToken cancellationToken)
        {
            var index = definition.Index is { } i ? (EventCriterion)await NodeAsync(i, chain, prefix, cancellationToken) : null;
            var criteria = new List<CriterionNode>();
            foreach (var node in definition.Criteria)
            {
                criteria.Add(await NodeAsync(node, chain, prefix, cancellationToken));
            }

            return definition with { Index = index, Criteria = criteria };
        }

        private void Error(string prefix, string path, string rule) => Errors.Add(new CriteriaError(prefix + path, rule));

        private async Task<CriterionNode> NodeAsync(CriterionNode node, List<(Guid Id, string Name)> chain, string prefix, CancellationToken cancellationToken)
        {
            switch (node)
            {
                case AllNode all:
                    return all with { Nodes = await NodesAsync(all.Nodes, chain, prefix, cancellationToken) };
                case AnyNode any:
                    return any with { Nodes = await NodesAsync(any.Nodes, chain, prefix, cancellationToken) };
                case NotNode not:
                    return not with { Node = await NodeAsync(not.Node, chain, prefix, cancellationToken) };
                case EventCriterion { ConceptSets: { Count: > 0 } sets } e:
                    return e with { Concepts = await ExpandAsync(e.Path, e.Concepts, sets, chain, prefix, cancellationToken), ConceptSets = null };
                case AdherenceCriterion { ConceptSets: { Count: > 0 } sets } a:
                    return a with { Concepts = await ExpandAsync(a.Path, a.Concepts, sets, chain, prefix, cancellationToken), ConceptSets = null };
                case SubgroupCriterion s:
                    return await SubgroupAsync(s, chain, prefix, cancellationToken);
                default:
                    return node;
            }
        }

        private async Task<List<CriterionNode>> NodesAsync(IReadOnlyList<CriterionNode> nodes, List<(Guid Id, string Name)> chain, string prefix, CancellationToken cancellationToken)
        {
            var resolved = new List<CriterionNode>();
            foreach (var node in nodes)
            {
                resolved.Add(await NodeAsync(node, chain, prefix, cancellationToken));
            }

            return resolved;
        }

        private async Task<List<ConceptItem>> ExpandAsync(
            string path, IReadOnlyList<ConceptItem> written, IReadOnlyList<ConceptSetReference> sets, List<(Guid Id, string Name)> chain, string prefix, CancellationToken cancellationToken)
        {
            var concepts = new List<ConceptItem>(written);
            foreach (var reference in sets)
            {
                var set = await ConceptSetAsync(reference.Id, cancellationToken);
                if (set is not { } found)
                {
                    Error(prefix, reference.Path + ".conceptSet", $"the concept set {reference.Id} does not exist or is not shared with you");
                    continue;
                }

                Used.Add(new LibraryRevision("conceptSet", reference.Id, found.Name, found.Revision, found.Visibility, chain.Count == 0, prefix + reference.Path));
                concepts.AddRange(found.Items.Select(item => new ConceptItem(item.ConceptId, item.Descendants, item.Exclude)));
            }

            if (concepts.Count > 0 && concepts.All(c => c.Exclude))
            {
                Error(prefix, path + ".concepts", "a concept set needs at least one concept that is not excluded (after the saved sets are expanded)");
            }

            return concepts;
        }

        private async Task<(string Name, int Revision, SubgroupVisibility Visibility, List<ConceptSetItem> Items)?> ConceptSetAsync(Guid id, CancellationToken cancellationToken)
        {
            if (_sets.TryGetValue(id, out var cached))
            {
                return cached;
            }

            var row = await db.SavedConceptSets.AsNoTracking().VisibleTo(userId)
                .Where(s => s.Id == id)
                .Join(db.SavedConceptSetRevisions, s => new { Id = s.Id, s.Revision }, r => new { Id = r.ConceptSetId, r.Revision }, (s, r) => new { s.Name, s.Revision, s.Visibility, r.Items })
                .SingleOrDefaultAsync(cancellationToken);
            var found = row is null ? ((string, int, SubgroupVisibility, List<ConceptSetItem>)?)null : (row.Name, row.Revision, row.Visibility, ItemsFromJson(row.Items));
            _sets[id] = found;
            return found;
        }

        private async Task<CriterionNode> SubgroupAsync(SubgroupCriterion reference, List<(Guid Id, string Name)> chain, string prefix, CancellationToken cancellationToken)
        {
            if (reference.Id == saving || chain.Any(c => c.Id == reference.Id))
            {
                var names = chain.Select(c => $"'{c.Name}'").Append("this subgroup");
                Error(prefix, reference.Path, $"the saved subgroups refer to each other in a cycle ({string.Join(" → ", names)} → itself); a subgroup cannot contain itself");
                return reference;
            }

            if (chain.Count + 1 > SubgroupDefinitionParser.MaxReferenceDepth)
            {
                Error(prefix, reference.Path, $"saved subgroups nest at most {SubgroupDefinitionParser.MaxReferenceDepth} levels deep");
                return reference;
            }

            if (++_subgroups > SubgroupDefinitionParser.MaxReferencedSubgroups)
            {
                Error(prefix, reference.Path, $"a definition draws in at most {SubgroupDefinitionParser.MaxReferencedSubgroups} saved subgroups, counting every level");
                return reference;
            }

            var row = await db.SavedSubgroups.AsNoTracking().VisibleTo(userId)
                .Where(s => s.Id == reference.Id)
                .Join(db.SavedSubgroupRevisions, s => new { Id = s.Id, s.Revision }, r => new { Id = r.SubgroupId, r.Revision }, (s, r) => new { s.Name, s.Revision, s.Visibility, r.Definition })
                .SingleOrDefaultAsync(cancellationToken);
            if (row is null)
            {
                Error(prefix, reference.Path, $"the saved subgroup {reference.Id} does not exist or is not shared with you");
                return reference;
            }

            Used.Add(new LibraryRevision("subgroup", reference.Id, row.Name, row.Revision, row.Visibility, chain.Count == 0, prefix + reference.Path));
            var nestedPrefix = $"{prefix}{reference.Path} → '{row.Name}' ";
            var parsed = SubgroupDefinitionParser.Parse(row.Definition, allowReferences: true);
            if (!parsed.IsValid)
            {
                Errors.AddRange(parsed.Errors.Select(e => new CriteriaError(nestedPrefix + e.Path, e.Rule)));
                return reference;
            }

            var nested = await ResolveAsync(parsed.Definition!, [.. chain, (reference.Id, row.Name)], nestedPrefix, cancellationToken);
            return reference with { Definition = nested, Label = reference.Label ?? $"member of '{row.Name}'" };
        }
    }
}
