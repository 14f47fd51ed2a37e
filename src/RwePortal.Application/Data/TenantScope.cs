namespace RwePortal.Application.Data;

/// <summary>
/// Which tenant's rows an <see cref="AppDbContext"/> may see: one tenant, or (<see cref="None"/>) no tenant-owned row
/// at all (fail closed). There is no scope that sees several tenants: work across tenants goes through the narrow
/// SECURITY DEFINER functions of db/app/rls.sql.
/// </summary>
public sealed record TenantScope
{
    private TenantScope(Guid? tenantId) => TenantId = tenantId;

    public Guid? TenantId { get; }

    public static TenantScope None { get; } = new((Guid?)null);

    public static TenantScope For(Guid tenantId) => new(tenantId);
}
