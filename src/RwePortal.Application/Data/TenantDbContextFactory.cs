using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Security;

namespace RwePortal.Application.Data;

/// <summary>
/// Gives handlers an <see cref="AppDbContext"/> bound to the current user's tenant: EF Core's query filters and
/// PostgreSQL's row-level security then both show that tenant's rows only. The pooled factory underneath cannot
/// take scoped services, so this scoped wrapper binds the context it creates.
/// </summary>
public sealed class TenantDbContextFactory(IDbContextFactory<AppDbContext> contexts, ICurrentUser currentUser)
{
    /// <summary>A context for the current user's tenant; with no current tenant it sees no tenant-owned rows.</summary>
    public async Task<AppDbContext> CreateAsync(CancellationToken cancellationToken)
    {
        var user = await currentUser.GetAsync(cancellationToken);
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        context.BindTo(user.TenantId is { } tenantId ? TenantScope.For(tenantId) : TenantScope.None);
        return context;
    }

    /// <summary>A context that sees every tenant's rows, for platform Admin work (tenants, grants). Refused to anyone else.</summary>
    /// <exception cref="UnauthorizedAccessException">The current user is not a platform Admin.</exception>
    public async Task<AppDbContext> CreateCrossTenantAsync(CancellationToken cancellationToken)
    {
        var user = await currentUser.GetAsync(cancellationToken);
        if (!user.IsAuthenticated || !user.IsPlatformAdmin)
        {
            throw new UnauthorizedAccessException("Only a platform Admin works across tenants.");
        }

        var context = await contexts.CreateDbContextAsync(cancellationToken);
        context.BindTo(TenantScope.AllTenants);
        return context;
    }
}
