using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;
using RwePortal.Application.Tenancy;

namespace RwePortal.Application.Features.Tenancy;

/// <summary>The tenants the current user can switch to (all active tenants for a platform Admin).</summary>
public static class ListMyTenants
{
    [RequiresPermission(Permission.ViewHome)]
    public sealed record Query : IRequest<Result<IReadOnlyList<Response>>>;

    public sealed record Response(Guid Id, string Name, bool IsCurrent);

    public sealed class Validator : AbstractValidator<Query>;

    internal sealed class Handler(ICurrentUser currentUser, IDbContextFactory<AppDbContext> contexts)
        : IRequestHandler<Query, Result<IReadOnlyList<Response>>>
    {
        public async Task<Result<IReadOnlyList<Response>>> Handle(Query request, CancellationToken cancellationToken)
        {
            var user = await currentUser.GetAsync(cancellationToken);
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            if (user.IsPlatformAdmin)
            {
                return await db.Tenants.AsNoTracking().Where(t => t.IsActive).OrderBy(t => t.Name)
                    .Select(t => new Response(t.Id, t.Name, t.Id == user.TenantId))
                    .ToListAsync(cancellationToken);
            }

            return (await UserMemberships.OfAsync(db, user.UserId, cancellationToken))
                .Where(m => m.TenantActive)
                .DistinctBy(m => m.TenantId)
                .OrderBy(m => m.TenantName, StringComparer.Ordinal)
                .Select(m => new Response(m.TenantId, m.TenantName, m.TenantId == user.TenantId))
                .ToList();
        }
    }
}
