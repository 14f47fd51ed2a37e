using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Tenants;

/// <summary>Every tenant on the platform, a page at a time, with its members and data source grants counted.</summary>
public static class ListTenants
{
    [RequiresPermission(Permission.ManageTenants)]
    public sealed record Query(int Page, int PageSize, string? Search = null) : IRequest<Result<Response>>;

    public sealed record Response(IReadOnlyList<Item> Items, int TotalCount);

    public sealed record Item(Guid Id, string Name, string Slug, bool IsActive, DateTimeOffset CreatedAt, int Members, int DataSources);

    public const int MaxPageSize = 100;

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Page).GreaterThanOrEqualTo(0);
            RuleFor(q => q.PageSize).InclusiveBetween(1, MaxPageSize);
            RuleFor(q => q.Search).MaximumLength(200);
        }
    }

    internal sealed class Handler(TenantDbContextFactory contexts) : IRequestHandler<Query, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            await using var db = await contexts.CreateCrossTenantAsync(cancellationToken);
            var tenants = db.Tenants.AsNoTracking();
            if (!string.IsNullOrWhiteSpace(request.Search))
            {
                var pattern = "%" + request.Search.Trim().Replace(@"\", @"\\", StringComparison.Ordinal)
                    .Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal) + "%";
                tenants = tenants.Where(t => EF.Functions.ILike(t.Name, pattern, @"\") || EF.Functions.ILike(t.Slug, pattern, @"\"));
            }

            var total = await tenants.CountAsync(cancellationToken);
            var items = await tenants
                .OrderBy(t => t.Name)
                .Skip(request.Page * request.PageSize).Take(request.PageSize)
                .Select(t => new Item(
                    t.Id,
                    t.Name,
                    t.Slug,
                    t.IsActive,
                    t.CreatedAt,
                    db.TenantMemberships.Where(m => m.TenantId == t.Id).Select(m => m.UserId).Distinct().Count(),
                    db.DataSourceGrants.Count(g => g.TenantId == t.Id)))
                .ToListAsync(cancellationToken);
            return new Response(items, total);
        }
    }
}
