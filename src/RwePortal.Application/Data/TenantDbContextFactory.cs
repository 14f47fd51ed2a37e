using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Security;

namespace RwePortal.Application.Data;

/// <summary>
/// Gives handlers an <see cref="AppDbContext"/> bound to one tenant: EF Core's query filters and PostgreSQL's
/// row-level security then both show that tenant's rows only. The pooled factory underneath cannot take scoped
/// services, so this scoped wrapper binds the context it creates.
/// </summary>
public sealed class TenantDbContextFactory(IDbContextFactory<AppDbContext> contexts, ICurrentUser currentUser)
{
    /// <summary>A context for the current user's tenant; with no current tenant it sees no tenant-owned rows.</summary>
    public async Task<AppDbContext> CreateAsync(CancellationToken cancellationToken)
    {
        var user = await currentUser.GetAsync(cancellationToken);
        return await CreateBoundAsync(user.TenantId is { } tenantId ? TenantScope.For(tenantId) : TenantScope.None, cancellationToken);
    }

    /// <summary>
    /// A context for <paramref name="tenantId"/>: the current user's own tenant, or any tenant for a platform Admin
    /// (who acts in one tenant at a time: granting it a data source, creating its first administrator).
    /// </summary>
    /// <exception cref="UnauthorizedAccessException">Another tenant, and the current user is not a platform Admin.</exception>
    public async Task<AppDbContext> CreateForTenantAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var user = await currentUser.GetAsync(cancellationToken);
        if (!user.IsAuthenticated || (user.TenantId != tenantId && !user.IsPlatformAdmin))
        {
            throw new UnauthorizedAccessException("Only a platform Admin works in another tenant.");
        }

        return await CreateBoundAsync(TenantScope.For(tenantId), cancellationToken);
    }

    private async Task<AppDbContext> CreateBoundAsync(TenantScope scope, CancellationToken cancellationToken)
    {
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        context.BindTo(scope);
        return context;
    }
}

/// <summary>Row-level security inside a transaction that spans tenants' rows (a new tenant and its first administrator).</summary>
public static class TenantSession
{
    /// <summary>
    /// Points row-level security at <paramref name="tenantId"/> until the context's open transaction ends
    /// (<c>set_config(…, is_local: true)</c>); the connection's own setting is back after commit or rollback.
    /// </summary>
    public static async Task ActInTenantAsync(this AppDbContext context, Guid tenantId, CancellationToken cancellationToken)
    {
        if (context.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("Acting in another tenant needs an open transaction.");
        }

        await context.Database.ExecuteSqlAsync(
            $"SELECT set_config({TenantSessionInterceptor.TenantSetting}, {tenantId.ToString()}, true)", cancellationToken);
    }
}
