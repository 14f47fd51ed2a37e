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

    internal sealed class Handler(TenantDbContextFactory contexts, WarehouseConnections warehouse, IAuditTrail audit, SubgroupReferences references)
        : IRequestHandler<Query, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            // The one place the definitions are read (saved subgroups and concept sets resolve here too).
            var a = await references.ResolveAsync(request.DefinitionA, cancellationToken);
            var b = await references.ResolveAsync(request.DefinitionB, cancellationToken);
            if (!a.Succeeded || !b.Succeeded)
            {
                return Error.Validation(new[] { a.Error is { } ea ? "A: " + ea.Message : null, b.Error is { } eb ? "B: " + eb.Message : null }.OfType<string>());
            }

            await using var db = await contexts.CreateAsync(cancellationToken);
            var granted = await SubgroupCharacterizations.GrantedSourceAsync(db, request.Source, request.Purpose, cancellationToken);
            if (!granted.Succeeded)
            {
                return granted.Error!;
            }

            var policy = await SmallCellPolicies.ForAsync(db, cancellationToken);
            var (tableA, tableB, rows) = await SubgroupCharacterizations.CompareAsync(
                warehouse, audit, policy, granted.Value!, a.Value!.Definition, b.Value!.Definition, request.Purpose, cancellationToken);
            return new Response(tableA, tableB, rows);
        }
    }
}
