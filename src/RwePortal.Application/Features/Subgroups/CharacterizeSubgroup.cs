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
/// The Table 1 of a subgroup definition on a source granted to the current tenant for the purpose: demographics, top
/// conditions and drugs, measurements, variant carriers, wearables, visits and cost, PRO scores, over the consented
/// members, in one statement run as the warehouse reader. Every count through the tenant's small-cell policy (partition
/// sections with complementary suppression, every other count protected with its complement), statistics only where
/// their count is shown; the query is on the tenant's audit trail.
/// </summary>
public static class CharacterizeSubgroup
{
    [RequiresPermission(Permission.ViewSubgroups)]
    public sealed record Query(string Source, string Definition, string Purpose = DataPurposes.Research) : IRequest<Result<SubgroupTable1>>;

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
        : IRequestHandler<Query, Result<SubgroupTable1>>
    {
        public async Task<Result<SubgroupTable1>> Handle(Query request, CancellationToken cancellationToken)
        {
            // The one place the definition is read (saved subgroups and concept sets resolve here too).
            var parsed = await references.ResolveAsync(request.Definition, cancellationToken);
            if (!parsed.Succeeded)
            {
                return parsed.Error!;
            }

            await using var db = await contexts.CreateAsync(cancellationToken);
            var granted = await SubgroupCharacterizations.GrantedSourceAsync(db, request.Source, request.Purpose, cancellationToken);
            if (!granted.Succeeded)
            {
                return granted.Error!;
            }

            var source = granted.Value!;
            var characterization = await SubgroupCharacterizations.RunAsync(
                warehouse, audit, parsed.Value!.Definition, source, request.Purpose, include: null, cancellationToken);
            var policy = await SmallCellPolicies.ForAsync(db, cancellationToken);
            return SubgroupCharacterizations.Protect(characterization, policy, SubgroupCharacterizations.Canonical(parsed.Value!.Definition, source, request.Purpose));
        }
    }
}
