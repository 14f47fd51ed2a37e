namespace RwePortal.Application.Security;

/// <summary>Who is asking, in which tenant, with which roles there. Built from the signed-in principal.</summary>
public sealed record UserContext(
    Guid UserId,
    string Email,
    string DisplayName,
    bool IsPlatformAdmin,
    Guid? TenantId,
    string? TenantName,
    IReadOnlyList<TenantRole> Roles)
{
    public static readonly UserContext Anonymous = new(Guid.Empty, "", "", false, null, null, []);

    public bool IsAuthenticated => UserId != Guid.Empty;

    public IReadOnlySet<Permission> Permissions => RolePermissions.For(Roles, IsPlatformAdmin);

    public bool Has(Permission permission) => IsAuthenticated && Permissions.Contains(permission);
}

/// <summary>Gives the current user: in the portal from the circuit's authentication state, in the CLI a service user.</summary>
public interface ICurrentUser
{
    Task<UserContext> GetAsync(CancellationToken cancellationToken = default);
}
