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
using RwePortal.Application.Privacy;
using RwePortal.Application.Security;
using RwePortal.Application.Tenancy;
using RwePortal.Warehouse;
using RwePortal.Warehouse.Schema;

namespace RwePortal.Application.Features.Vocabulary;

/// <summary>
/// What a granted source holds for the genomic pickers of the subgroup builder: its genes, their variants (HGVS c./p.,
/// rsID, clinical significance, zygosities seen) and its polygenic scores. Only people who consent to the purpose are
/// looked at; the carriers of each gene and variant are counts through the tenant's small-cell policy ("&lt;11");
/// nothing per person leaves the warehouse. The query is on the tenant's audit trail like every warehouse query.
/// </summary>
public static class ListSourceGenes
{
    /// <summary>Most variants listed (the ones with most carriers).</summary>
    public const int MaxVariants = 500;

    [RequiresPermission(Permission.ViewSubgroups)]
    public sealed record Query(string Source, string Purpose = DataPurposes.Research) : IRequest<Result<Response>>;

    public sealed record Response(string Source, string Purpose, IReadOnlyList<Gene> Genes, IReadOnlyList<Score> Scores);

    public sealed record Gene(string Symbol, ProtectedCount Carriers, IReadOnlyList<Variant> Variants);

    public sealed record Variant(string? HgvsC, string? HgvsP, string? Rsid, string? Significance, IReadOnlyList<string> Zygosities, ProtectedCount Carriers)
    {
        /// <summary>"c.424G>A p.Val142Ile rs76992529 (pathogenic)".</summary>
        public string Display => string.Join(" ", new[] { HgvsC, HgvsP, Rsid, Significance is null ? null : $"({Significance.Replace('_', ' ')})" }.Where(p => p is not null));
    }

    public sealed record Score(string ScoreId, string? Name);

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Source).NotEmpty().MaximumLength(64);
            RuleFor(q => q.Purpose).Must(DataPurposes.IsKnown).WithMessage($"Unknown purpose; use one of: {string.Join(", ", DataPurposes.All)}.");
        }
    }

    private sealed record Row(string Gene, string? HgvsC, string? HgvsP, string? Rsid, string? Significance, string? Zygosities, long Carriers, bool GeneTotal);

    private sealed record ScoreRow(string ScoreId, string? ScoreName);

    internal sealed class Handler(TenantDbContextFactory contexts, WarehouseConnections warehouse, IAuditTrail audit)
        : IRequestHandler<Query, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            await using var db = await contexts.CreateAsync(cancellationToken);
            var found = await GrantedSources.FindAsync(db, request.Source, request.Purpose, cancellationToken);
            if (!found.Succeeded)
            {
                return found.Error!;
            }

            var source = found.Value!;
            var schema = "\"" + SchemaName.Validate(source.SchemaName) + "\"";
            // Gene totals and variants in one pass over consenting people's variants: GROUPING SETS keeps a carrier of
            // two variants of a gene one carrier of the gene.
            var genesSql = string.Format(CultureInfo.InvariantCulture, """
                WITH consenting AS MATERIALIZED (SELECT person_id FROM gov.consented_persons(@source, @purpose))
                SELECT v.gene_symbol AS Gene, v.hgvs_c AS HgvsC, v.hgvs_p AS HgvsP, v.rsid AS Rsid, v.clinical_significance AS Significance,
                       string_agg(DISTINCT v.zygosity, ',' ORDER BY v.zygosity) AS Zygosities,
                       count(DISTINCT v.person_id) AS Carriers,
                       GROUPING(v.hgvs_c, v.hgvs_p, v.rsid, v.clinical_significance) <> 0 AS GeneTotal
                FROM {0}.variant_occurrence v
                WHERE v.gene_symbol IS NOT NULL AND v.person_id IN (SELECT person_id FROM consenting)
                GROUP BY GROUPING SETS ((v.gene_symbol), (v.gene_symbol, v.hgvs_c, v.hgvs_p, v.rsid, v.clinical_significance))
                ORDER BY GeneTotal DESC, Carriers DESC, Gene, HgvsC
                """, schema);
            var scoresSql = string.Format(CultureInfo.InvariantCulture, """
                SELECT g.score_id AS ScoreId, min(g.score_name) AS ScoreName
                FROM {0}.genomic_score g
                WHERE g.person_id IN (SELECT person_id FROM gov.consented_persons(@source, @purpose))
                GROUP BY g.score_id
                ORDER BY g.score_id
                """, schema);

            var clock = Stopwatch.StartNew();
            List<Row> rows;
            List<ScoreRow> scores;
            await using (var connection = await warehouse.OpenAsync(cancellationToken))
            {
                var parameters = new { source = source.Name, purpose = request.Purpose };
                rows = (await connection.QueryAsync<Row>(new CommandDefinition(
                    genesSql, parameters, commandTimeout: WarehouseConnections.CommandTimeoutSeconds, cancellationToken: cancellationToken))).ToList();
                scores = (await connection.QueryAsync<ScoreRow>(new CommandDefinition(
                    scoresSql, parameters, commandTimeout: WarehouseConnections.CommandTimeoutSeconds, cancellationToken: cancellationToken))).ToList();
            }

            clock.Stop();
            var policy = await SmallCellPolicies.ForAsync(db, cancellationToken);
            ProtectedCount Protect(long exact, params string[] key) =>
                policy.Count(exact, QuerySeed.Of([genesSql, source.Name, request.Purpose, .. key]));

            var variants = rows.Where(r => !r.GeneTotal).OrderByDescending(r => r.Carriers).Take(MaxVariants).ToLookup(r => r.Gene, StringComparer.Ordinal);
            var genes = rows.Where(r => r.GeneTotal)
                .OrderBy(r => r.Gene, StringComparer.Ordinal)
                .Select(g => new Gene(
                    g.Gene,
                    Protect(g.Carriers, "gene", g.Gene),
                    variants[g.Gene]
                        .OrderBy(v => v.HgvsC, StringComparer.Ordinal).ThenBy(v => v.Rsid, StringComparer.Ordinal)
                        .Select(v => new Variant(v.HgvsC, v.HgvsP, v.Rsid, v.Significance, v.Zygosities?.Split(',') ?? [],
                            Protect(v.Carriers, "variant", g.Gene, v.HgvsC ?? "", v.HgvsP ?? "", v.Rsid ?? "", v.Significance ?? "")))
                        .ToList()))
                .ToList();

            await audit.RecordWarehouseQueryAsync(
                Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(genesSql + "\n" + scoresSql))),
                new Dictionary<string, object?>
                {
                    ["source"] = source.Name,
                    ["purpose"] = request.Purpose,
                    ["query"] = "source genes",
                },
                rows.Count + scores.Count,
                clock.Elapsed,
                cancellationToken);
            return new Response(source.Name, request.Purpose, genes, scores.Select(s => new Score(s.ScoreId, s.ScoreName)).ToList());
        }
    }
}
