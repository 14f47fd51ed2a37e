using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using FluentValidation;
using MediatR;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;
using RwePortal.Warehouse;
using RwePortal.Warehouse.Schema;

namespace RwePortal.Application.Features.Vocabulary;

/// <summary>
/// Type-ahead over the vocabulary of a data source granted to the current tenant: concepts whose name contains the
/// text (or whose id or code is the text), optionally of one domain, standard concepts first. Each concept comes with
/// whether it is standard, a classification or a source concept, and its place in the hierarchy: one ancestor per
/// level of separation (concept_ancestor's min_levels_of_separation) from the top down to its parent, and how many
/// descendants a concept set "with descendants" would add. Vocabulary rows only: no person data, no counts.
/// </summary>
public static class SearchConcepts
{
    /// <summary>Most concepts one search returns.</summary>
    public const int MaxLimit = 50;

    /// <summary>Most ancestors shown per concept (the nearest levels).</summary>
    public const int MaxAncestorLevels = 6;

    [RequiresPermission(Permission.ViewSubgroups)]
    public sealed record Query(string Source, string Text, string? Domain = null, int Limit = 20) : IRequest<Result<IReadOnlyList<Concept>>>;

    public sealed record Concept(
        int ConceptId,
        string Name,
        string Domain,
        string Vocabulary,
        string ConceptClass,
        string Code,
        ConceptStandard Standard,
        bool Invalid,
        IReadOnlyList<Ancestor> Ancestors,
        long Descendants)
    {
        /// <summary>"Cardiovascular disease › Heart disease › Heart failure": the top ancestor first, the concept last.</summary>
        public string HierarchyPath => string.Join(" › ", Ancestors.Select(a => a.Name).Append(Name));
    }

    /// <summary>An ancestor <see cref="Levels"/> steps above the concept.</summary>
    public sealed record Ancestor(int ConceptId, string Name, int Levels);

    /// <summary>OMOP's standard_concept flag: S (standard), C (classification) or empty (a source concept, to be mapped).</summary>
    public enum ConceptStandard
    {
        Standard,
        Classification,
        Source,
    }

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Source).NotEmpty().MaximumLength(64);
            RuleFor(q => q.Text).NotNull().Must(t => t!.Trim().Length is >= 2 and <= 200 || int.TryParse(t.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out _))
                .WithMessage("Type at least 2 characters (at most 200), or a concept id.");
            RuleFor(q => q.Domain).MaximumLength(20);
            RuleFor(q => q.Limit).InclusiveBetween(1, MaxLimit);
        }
    }

    private sealed record Hit(int ConceptId, string ConceptName, string DomainId, string VocabularyId, string ConceptClassId, string ConceptCode, string? StandardConcept, string? InvalidReason, long Descendants);

    private sealed record AncestorRow(int ConceptId, int AncestorId, string AncestorName, int Levels);

    internal sealed class Handler(TenantDbContextFactory contexts, WarehouseConnections warehouse, IAuditTrail audit)
        : IRequestHandler<Query, Result<IReadOnlyList<Concept>>>
    {
        public async Task<Result<IReadOnlyList<Concept>>> Handle(Query request, CancellationToken cancellationToken)
        {
            GrantedSource source;
            await using (var db = await contexts.CreateAsync(cancellationToken))
            {
                var found = await GrantedSources.FindAsync(db, request.Source, purpose: null, cancellationToken);
                if (!found.Succeeded)
                {
                    return found.Error!;
                }

                source = found.Value!;
            }

            var schema = "\"" + SchemaName.Validate(source.SchemaName) + "\"";
            var text = request.Text.Trim();
            int? id = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
            // The text is a parameter; % and _ in it are matched literally.
            var pattern = "%" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";
            var search = $"""
                SELECT h.concept_id AS ConceptId, h.concept_name AS ConceptName, h.domain_id AS DomainId, h.vocabulary_id AS VocabularyId,
                       h.concept_class_id AS ConceptClassId, h.concept_code AS ConceptCode, h.standard_concept AS StandardConcept,
                       h.invalid_reason AS InvalidReason,
                       (SELECT count(*) FROM {schema}.concept_ancestor d
                         WHERE d.ancestor_concept_id = h.concept_id AND d.descendant_concept_id <> h.concept_id) AS Descendants
                FROM (
                    SELECT c.*
                    FROM {schema}.concept c
                    WHERE (c.concept_id = CAST(@id AS integer) OR c.concept_code = @text OR c.concept_name ILIKE @pattern ESCAPE '\')
                      AND (CAST(@domain AS text) IS NULL OR c.domain_id = @domain)
                    ORDER BY (c.concept_id = CAST(@id AS integer)) IS TRUE DESC,
                             lower(c.concept_name) = lower(@text) DESC,
                             c.standard_concept = 'S' IS TRUE DESC,
                             c.invalid_reason IS NULL DESC,
                             length(c.concept_name), c.concept_id
                    LIMIT @limit
                ) h
                """;
            const string AncestorsSql = """
                SELECT ca.descendant_concept_id AS ConceptId, a.concept_id AS AncestorId, a.concept_name AS AncestorName,
                       ca.min_levels_of_separation AS Levels
                FROM {0}.concept_ancestor ca
                JOIN {0}.concept a ON a.concept_id = ca.ancestor_concept_id
                WHERE ca.descendant_concept_id = ANY(@ids) AND ca.ancestor_concept_id <> ca.descendant_concept_id
                  AND ca.min_levels_of_separation BETWEEN 1 AND @levels
                ORDER BY ca.descendant_concept_id, ca.min_levels_of_separation DESC, a.standard_concept = 'S' IS TRUE DESC, a.concept_name
                """;
            var ancestorsSql = string.Format(CultureInfo.InvariantCulture, AncestorsSql, schema);

            var clock = Stopwatch.StartNew();
            await using var connection = await warehouse.OpenAsync(cancellationToken);
            var parameters = new { id, text, pattern, domain = request.Domain, limit = request.Limit };
            var hits = (await connection.QueryAsync<Hit>(new CommandDefinition(
                search, parameters, commandTimeout: WarehouseConnections.CommandTimeoutSeconds, cancellationToken: cancellationToken))).ToList();
            var ids = hits.Select(h => h.ConceptId).ToArray();
            var ancestors = ids.Length == 0
                ? []
                : (await connection.QueryAsync<AncestorRow>(new CommandDefinition(
                    ancestorsSql, new { ids, levels = MaxAncestorLevels }, commandTimeout: WarehouseConnections.CommandTimeoutSeconds, cancellationToken: cancellationToken))).ToList();
            clock.Stop();

            // One ancestor per level (concepts with several parents: the standard one, then by name), top level first.
            var paths = ancestors.GroupBy(a => a.ConceptId).ToDictionary(
                g => g.Key,
                g => (IReadOnlyList<Ancestor>)g.GroupBy(a => a.Levels).Select(level => level.First())
                    .Select(a => new Ancestor(a.AncestorId, a.AncestorName, a.Levels)).ToList());
            var concepts = hits.Select(h => new Concept(
                h.ConceptId,
                h.ConceptName,
                h.DomainId,
                h.VocabularyId,
                h.ConceptClassId,
                h.ConceptCode,
                h.StandardConcept switch { "S" => ConceptStandard.Standard, "C" => ConceptStandard.Classification, _ => ConceptStandard.Source },
                h.InvalidReason is not null,
                paths.GetValueOrDefault(h.ConceptId, []),
                h.Descendants)).ToList();

            await audit.RecordWarehouseQueryAsync(
                Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(search + "\n" + ancestorsSql))),
                new Dictionary<string, object?>
                {
                    ["source"] = source.Name,
                    ["query"] = "concept search",
                    ["values"] = new Dictionary<string, object?> { ["text"] = text, ["domain"] = request.Domain, ["limit"] = request.Limit },
                },
                concepts.Count,
                clock.Elapsed,
                cancellationToken);
            return concepts;
        }
    }
}
