using RwePortal.Application.Security;

namespace RwePortal.Application.Tenancy;

/// <summary>A role a user holds in a tenant; one row per role.</summary>
public sealed class TenantMembership
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid TenantId { get; set; }

    public Guid UserId { get; set; }

    public TenantRole Role { get; set; }

    public DateTimeOffset GrantedAt { get; set; } = DateTimeOffset.UtcNow;
}
