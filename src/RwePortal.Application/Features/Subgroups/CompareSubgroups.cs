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
/// Two subgroup definitions side by side on one source granted to the tenant for the purpose: each one's Table 1 on the
/// same rows (a top condition of either is asked of both), and per row the standardized difference A − B, computed from
/// exact aggregates and shown only where both rows' counts are shown. Every warehouse query is audited.
/// </summary>
public static class CompareSubgroups
{
    [RequiresPermission(Permission.ViewSubgroups)]
    public sealed record Query(string Source, string DefinitionA, string DefinitionB, string Purpose = DataPurposes.Research) : IRequest<Result<Response>>;

    public sealed record Response(SubgroupTable1 A, SubgroupTable1 B, IReadOnlyList<ComparisonRow> Rows);

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Source).NotEmpty().MaximumLength(64);
            RuleFor(q => q.DefinitionA).NotEmpty().MaximumLength(SubgroupDefinitionParser.MaxDocumentLength);
            RuleFor(q => q.DefinitionB).NotEmpty().MaximumLength(SubgroupDefinitionParser.MaxDocumentLength);
            RuleFor(q => q.Purpose).Must(DataPurposes.IsKnown).WithMessage($"Unknown purpose; use one of: {string.Join(", ", DataPurposes.All)}.");
        }
    }

    internal sealed class Handler(TenantDbContextFactory contexts, WarehouseConnections warehouse, IAuditTrail audit)
        : IRequestHandler<Query, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            // The one place the definitions are read (saved subgroups and concept sets resolve here too).
            var a = SubgroupDefinitionParser.Parse(request.DefinitionA);
            var b = SubgroupDefinitionParser.Parse(request.DefinitionB);
            if (!a.IsValid || !b.IsValid)
            {
                return Error.Validation(a.Errors.Select(e => "A: " + e).Concat(b.Errors.Select(e => "B: " + e)));
            }

            await using var db = await contexts.CreateAsync(cancellationToken);
            var granted = await SubgroupCharacterizations.GrantedSourceAsync(db, request.Source, request.Purpose, cancellationToken);
            if (!granted.Succeeded)
            {
                return granted.Error!;
            }

            var policy = await SmallCellPolicies.ForAsync(db, cancellationToken);
            var (tableA, tableB, rows) = await SubgroupCharacterizations.CompareAsync(
                warehouse, audit, policy, granted.Value!, a.Definition!, b.Definition!, request.Purpose, cancellationToken);
            return new Response(tableA, tableB, rows);
        }
    }
}
