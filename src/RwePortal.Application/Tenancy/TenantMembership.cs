using RwePortal.Application.Security;

namespace RwePortal.Application.Tenancy;

/// <summary>
/// A role a user holds in a tenant; one row per role. Tenant-owned like any other tenant row: a user's memberships
/// across tenants are read only through <see cref="UserMemberships"/> (sign-in, the tenant switcher).
/// </summary>
public sealed class TenantMembership : ITenantOwned
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid TenantId { get; set; }

    public Guid UserId { get; set; }

    public TenantRole Role { get; set; }

    public DateTimeOffset GrantedAt { get; set; } = DateTimeOffset.UtcNow;
}
