using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FluentValidation;
using MediatR;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Privacy;
using RwePortal.Application.Security;
using RwePortal.Application.Tenancy;
using RwePortal.Warehouse;
using RwePortal.Warehouse.Cohorts;

namespace RwePortal.Application.Features.Subgroups;

/// <summary>
/// Counts a subgroup definition on a data source granted to the current tenant for the purpose, as the warehouse
/// reader with the purpose's consent inside the statement. Every number leaves through the tenant's small-cell policy,
/// its noise seeded by the compiled statement (the same logical query always shows the same numbers), and the query
/// is on the audit trail with the statement's hash, parameters, purpose, count and duration.
/// </summary>
public static class CountSubgroup
{
    /// <param name="Source">The data source.</param>
    /// <param name="Definition">The definition (JSON).</param>
    /// <param name="Purpose">The consent purpose.</param>
    /// <param name="Attrition">
    /// With the attrition funnel (the statement of decision 0701); false: the count alone, faster at scale (decision
    /// 0745), its steps empty. Both show the same count and removal (same exact numbers, same noise seed).
    /// </param>
    [RequiresPermission(Permission.ViewSubgroups)]
    public sealed record Query(string Source, string Definition, string Purpose = DataPurposes.Research, bool Attrition = true) : IRequest<Result<Response>>;

    public sealed record Response(
        string Source,
        string Purpose,
        ProtectedCount Count,
        ProtectedCount RemovedByConsent,
        IReadOnlyList<Step> Attrition,
        double DurationMs,
        IReadOnlyList<LibraryRevision>? Library = null);

    /// <summary>People left after a top-level criterion (the first step is the consented population).</summary>
    public sealed record Step(string Label, ProtectedCount Remaining);

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Source).NotEmpty().MaximumLength(64);
            RuleFor(q => q.Definition).NotEmpty().MaximumLength(SubgroupDefinitionParser.MaxDocumentLength);
            RuleFor(q => q.Purpose).Must(DataPurposes.IsKnown).WithMessage($"Unknown purpose; use one of: {string.Join(", ", DataPurposes.All)}.");
        }
    }

    internal sealed class Handler(TenantDbContextFactory contexts, WarehouseConnections warehouse, IAuditTrail audit, SubgroupReferences references)
        : IRequestHandler<Query, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            // Library references (saved subgroups, saved concept sets) resolve to their current revisions, as this user sees them.
            var resolved = await references.ResolveAsync(request.Definition, cancellationToken);
            if (!resolved.Succeeded)
            {
                return resolved.Error!;
            }

            var definition = resolved.Value!.Definition;

            // The source as the current tenant sees it: only through its own grant, and only for a granted purpose.
            await using var db = await contexts.CreateAsync(cancellationToken);
            var granted = await GrantedDataSources.FindAsync(db, request.Source, request.Purpose, "Subgroup.PurposeNotGranted", cancellationToken);
            if (!granted.Succeeded)
            {
                return granted.Error!;
            }

            var source = granted.Value!;
            var compiled = SubgroupCounter.Compile(definition, source, request.Purpose);

            // The compiled statement and its parameters are the query's canonical form: a reworded name or a reordered
            // JSON document that compiles the same is the same query and shows the same numbers.
            var policy = await SmallCellPolicies.ForAsync(db, cancellationToken);
            ProtectedCount Protect(long exact, CompiledSubgroup query, string measure) =>
                policy.Count(exact, QuerySeed.Of(Canonical(query), source.Name, request.Purpose, measure));

            if (!request.Attrition)
            {
                // The count alone: seeded by the same canonical statement, so it shows what the funnel's last step shows;
                // the audit trail names the statement that ran.
                var total = await new SubgroupCounter(warehouse).CountTotalAsync(definition, source, request.Purpose, cancellationToken);
                await RecordAsync(total.Statement, source.Name, request.Purpose, resolved.Value.Used, total.Count, total.Duration, cancellationToken);
                return new Response(
                    source.Name,
                    request.Purpose,
                    Protect(total.Count, compiled, "count"),
                    Protect(total.RemovedByConsent, compiled, "removed-by-consent"),
                    [],
                    Math.Round(total.Duration.TotalMilliseconds, 1),
                    resolved.Value.Used);
            }

            var result = await new SubgroupCounter(warehouse).CountAsync(definition, source, request.Purpose, cancellationToken);

            // Each attrition step is seeded by the definition cut after it, so a step shows what counting that shorter
            // definition shows: the same people behind many longer queries never get fresh noise to average, and the
            // last step is the count itself. Then an earlier step shown below a later one is raised to it, so the funnel
            // never grows (post-processing of shown numbers; the count keeps its own, as Table 1 shows it).
            var steps = new ProtectedCount[result.Attrition.Count];
            for (var i = 0; i < steps.Length; i++)
            {
                var prefix = i == definition.Criteria.Count
                    ? compiled
                    : SubgroupCounter.Compile(definition with { Criteria = definition.Criteria.Take(i).ToList() }, source, request.Purpose);
                steps[i] = Protect(result.Attrition[i].Remaining, prefix, "count");
            }

            for (var i = steps.Length - 2; i >= 0; i--)
            {
                if (steps[i].Value is { } earlier && steps[i + 1].Value is { } later && earlier < later)
                {
                    steps[i] = steps[i + 1];
                }
            }

            var response = new Response(
                source.Name,
                request.Purpose,
                steps[^1],
                Protect(result.RemovedByConsent, compiled, "removed-by-consent"),
                result.Attrition.Select((step, i) => new Step(step.Step, steps[i])).ToList(),
                Math.Round(result.Duration.TotalMilliseconds, 1),
                resolved.Value.Used);

            await RecordAsync(compiled, source.Name, request.Purpose, resolved.Value.Used, result.Count, result.Duration, cancellationToken);
            return response;
        }

        private Task RecordAsync(
            CompiledSubgroup compiled, string source, string purpose, IReadOnlyList<LibraryRevision> used, long count, TimeSpan duration, CancellationToken cancellationToken) =>
            audit.RecordWarehouseQueryAsync(
                Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(compiled.Sql))),
                new Dictionary<string, object?>
                {
                    ["source"] = source,
                    ["purpose"] = purpose,
                    ["values"] = compiled.Parameters.ToDictionary(p => p.Name, p => p.Value),
                    ["library"] = used.Select(u => new { kind = u.Kind, id = u.Id, revision = u.Revision }).Distinct().ToList(),
                },
                count,
                duration,
                cancellationToken);

        private static string Canonical(CompiledSubgroup query) =>
            query.Sql + "\n" + JsonSerializer.Serialize(query.Parameters.Select(p => new[] { p.Name, JsonSerializer.Serialize(p.Value) }));
    }
}
