using Microsoft.AspNetCore.Identity;
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

    /// <summary>
    /// Resets an account's second factor (lost or compromised authenticator): turns it off, replaces the
    /// authenticator key and discards every recovery code, so nothing issued for the old authenticator signs in
    /// again. Each step changes the security stamp, which ends the account's open sessions; a session refreshed
    /// after it is password-only (<see cref="RweSignInManager"/>), so an administrator must enrol again before an
    /// administration page opens.
    /// </summary>
    public static async Task<IdentityResult> ResetAsync(UserManager<ApplicationUser> users, ApplicationUser user)
    {
        var disabled = await users.SetTwoFactorEnabledAsync(user, false);
        if (!disabled.Succeeded)
        {
            return disabled;
        }

        var reset = await users.ResetAuthenticatorKeyAsync(user);
        if (!reset.Succeeded)
        {
            return reset;
        }

        // Generating zero codes replaces the stored ones with none: old codes stop working, and enrolling the new
        // authenticator issues a fresh set.
        await users.GenerateNewTwoFactorRecoveryCodesAsync(user, 0);
        return await users.CountRecoveryCodesAsync(user) == 0
            ? IdentityResult.Success
            : IdentityResult.Failed(new IdentityError { Code = "RecoveryCodesKept", Description = "The recovery codes could not be discarded." });
    }
}
