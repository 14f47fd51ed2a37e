using RwePortal.Application.Data;

namespace RwePortal.Application.Security;

/// <summary>
/// Administrators (TenantAdmin, platform Admin) use their administrative permissions only in a session signed in
/// with a second factor (TOTP or a recovery code). Everyone else may turn one on.
/// </summary>
public static class SecondFactor
{
    /// <summary>The value Identity's sign-in manager puts in the <c>amr</c> claim after a second factor.</summary>
    public const string MultiFactorMethod = "mfa";

    private static readonly HashSet<Permission> Administrative =
    [
        Permission.ManageTenantUsers, Permission.ManageConsent, Permission.ViewAudit, Permission.ManageTenants, Permission.ManageDataSources,
    ];

    public static bool IsRequiredFor(Permission permission) => Administrative.Contains(permission);

    /// <summary>Whether this account administers anything (platform Admin, or TenantAdmin in an active tenant) and so must enrol.</summary>
    public static async Task<bool> IsRequiredForAsync(AppDbContext db, ApplicationUser user, CancellationToken cancellationToken = default) =>
        user.IsPlatformAdmin
        || (await Tenancy.UserMemberships.OfAsync(db, user.Id, cancellationToken))
            .Any(m => m.Role == TenantRole.TenantAdmin && m.TenantActive);
}
