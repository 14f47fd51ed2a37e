using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Privacy;
using RwePortal.Application.Security;
using RwePortal.Application.Tenancy;
using RwePortal.Warehouse;
using RwePortal.Warehouse.Cohorts;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Application.Features.Subgroups;

/// <summary>
/// Counts a subgroup definition on a data source granted to the current tenant for the purpose, as the warehouse
/// reader with the purpose's consent inside the statement. Every number leaves through the tenant's small-cell policy,
/// its noise seeded by the compiled statement (the same logical query always shows the same numbers), and the query
/// is on the audit trail with the statement's hash, parameters, purpose, count and duration.
/// </summary>
public static class CountSubgroup
{
    [RequiresPermission(Permission.ViewSubgroups)]
    public sealed record Query(string Source, string Definition, string Purpose = DataPurposes.Research) : IRequest<Result<Response>>;

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
            var granted = await db.DataSourceGrants.AsNoTracking()
                .Join(db.DataSources, g => g.DataSourceId, s => s.Id, (g, s) => new { Grant = g, Source = s })
                .SingleOrDefaultAsync(x => x.Source.Name == request.Source, cancellationToken);
            if (granted is null)
            {
                return Error.NotFound("DataSource");
            }

            if (!granted.Grant.Purposes.Contains(request.Purpose))
            {
                return new Error("Subgroup.PurposeNotGranted", $"{request.Source} is not granted to this tenant for {request.Purpose}.");
            }

            var s = granted.Source;
            var source = new DataSource(s.Id, s.Name, s.Description, s.CdmVersion, s.SchemaName, s.CreatedAt, s.LoadedAt, new Dictionary<string, long>(), s.CustodianTenantId);
            var compiled = SubgroupCounter.Compile(definition, source, request.Purpose);
            var result = await new SubgroupCounter(warehouse).CountAsync(definition, source, request.Purpose, cancellationToken);

            // The compiled statement and its parameters are the query's canonical form: a reworded name or a reordered
            // JSON document that compiles the same is the same query and shows the same numbers.
            var canonical = compiled.Sql + "\n" + JsonSerializer.Serialize(compiled.Parameters.Select(p => new[] { p.Name, JsonSerializer.Serialize(p.Value) }));
            var policy = await SmallCellPolicies.ForAsync(db, cancellationToken);
            ProtectedCount Protect(long exact, string measure) => policy.Count(exact, QuerySeed.Of(canonical, source.Name, request.Purpose, measure));
            var response = new Response(
                source.Name,
                request.Purpose,
                Protect(result.Count, "count"),
                Protect(result.RemovedByConsent, "removed-by-consent"),
                result.Attrition.Select((step, i) => new Step(step.Step, Protect(step.Remaining, $"step-{i}"))).ToList(),
                Math.Round(result.Duration.TotalMilliseconds, 1),
                resolved.Value.Used);

            await audit.RecordWarehouseQueryAsync(
                Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(compiled.Sql))),
                new Dictionary<string, object?>
                {
                    ["source"] = source.Name,
                    ["purpose"] = request.Purpose,
                    ["values"] = compiled.Parameters.ToDictionary(p => p.Name, p => p.Value),
                    ["library"] = resolved.Value.Used.Select(u => new { kind = u.Kind, id = u.Id, revision = u.Revision }).Distinct().ToList(),
                },
                result.Count,
                result.Duration,
                cancellationToken);
            return response;
        }
    }
}
