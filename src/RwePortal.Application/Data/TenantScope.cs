namespace RwePortal.Application.Data;

/// <summary>
/// Which tenant's rows an <see cref="AppDbContext"/> may see. <see cref="None"/> sees no tenant-owned row at all
/// (fail closed); <see cref="AllTenants"/> is for platform Admin work across tenants and is handed out only by
/// <see cref="TenantDbContextFactory.CreateCrossTenantAsync"/>.
/// </summary>
public sealed record TenantScope
{
    private TenantScope(Guid? tenantId, bool crossTenant)
    {
        TenantId = tenantId;
        CrossTenant = crossTenant;
    }

    public Guid? TenantId { get; }

    public bool CrossTenant { get; }

    public static TenantScope None { get; } = new(null, false);

    public static TenantScope AllTenants { get; } = new(null, true);

    public static TenantScope For(Guid tenantId) => new(tenantId, false);
}
