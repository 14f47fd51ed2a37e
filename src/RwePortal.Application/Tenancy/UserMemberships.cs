using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Tenancy;

/// <summary>
/// Every tenant a user belongs to, and the roles held there. Memberships are row-level secured per tenant; this one
/// question spans tenants, so it goes through the narrow definer function <c>app.user_memberships</c> (db/app/rls.sql).
/// </summary>
public static class UserMemberships
{
    public sealed record Membership(Guid TenantId, string TenantName, bool TenantActive, TenantRole Role);

    public static async Task<IReadOnlyList<Membership>> OfAsync(AppDbContext db, Guid userId, CancellationToken cancellationToken)
    {
        var rows = await db.QueryAsync<Row>(
            """
            SELECT tenant_id AS TenantId, tenant_name AS TenantName, tenant_active AS TenantActive, role AS Role
            FROM app.user_memberships(@userId)
            """,
            new { userId },
            cancellationToken);
        return rows
            .Select(r => Enum.TryParse<TenantRole>(r.Role, out var role) ? new Membership(r.TenantId, r.TenantName, r.TenantActive, role) : null)
            .OfType<Membership>()
            .ToList();
    }

    private sealed record Row(Guid TenantId, string TenantName, bool TenantActive, string Role);
}
