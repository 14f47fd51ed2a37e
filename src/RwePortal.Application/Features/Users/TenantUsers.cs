using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;
using RwePortal.Application.Tenancy;

namespace RwePortal.Application.Features.Users;

/// <summary>
/// What the user slices share. A person spans tenants: accounts are not tenant rows, memberships are (row-level
/// secured). Every lookup here goes through a membership of the current tenant, and a user of another tenant is
/// "not found". The slices work in the request's <see cref="AppDbContext"/>, the one <c>UserManager</c> uses, so an
/// account change, the membership rows and the audit event commit in one transaction.
/// </summary>
internal static class TenantUsers
{
    public static Error NotFound() => Error.NotFound("User");

    public static Error NoTenant() => new("Tenant.NotChosen", "Choose a tenant first.");

    public static Error SharedAccount() => new(
        "User.SharedAccount",
        "This person's account is also used outside this tenant: remove them from this tenant instead.");

    public static Error Self() => new("User.Self", "You cannot do this to your own account; ask another administrator.");

    /// <summary>The user if they hold a role in <paramref name="tenantId"/>; otherwise null (another tenant's user, or none).</summary>
    public static Task<ApplicationUser?> FindMemberAsync(AppDbContext db, Guid tenantId, Guid userId, CancellationToken cancellationToken) =>
        db.Users.Where(u => u.Id == userId && db.TenantMemberships.Any(m => m.UserId == u.Id && m.TenantId == tenantId))
            .SingleOrDefaultAsync(cancellationToken);

    public static async Task<List<TenantRole>> RolesAsync(AppDbContext db, Guid tenantId, Guid userId, CancellationToken cancellationToken) =>
        await db.TenantMemberships.AsNoTracking()
            .Where(m => m.TenantId == tenantId && m.UserId == userId)
            .Select(m => m.Role)
            .OrderBy(role => role)
            .ToListAsync(cancellationToken);

    /// <summary>
    /// Whether the account belongs to this tenant only (no role elsewhere, not a platform Admin): only then may this
    /// tenant's administrator change account-wide things (disable it, reset its second factor).
    /// </summary>
    public static async Task<bool> IsConfinedToAsync(AppDbContext db, ApplicationUser user, Guid tenantId, CancellationToken cancellationToken) =>
        !user.IsPlatformAdmin
        && (await UserMemberships.OfAsync(db, user.Id, cancellationToken)).All(m => m.TenantId == tenantId);

    /// <summary>
    /// The account an administrator of the current tenant may change account-wide (disable it, reset its second
    /// factor): a member of this tenant, not the administrator, and used in no other tenant. Checked in that order,
    /// so another tenant's user answers "not found". <paramref name="db"/> is the request's context (the one
    /// <c>UserManager</c> uses), so the user it returns is tracked there.
    /// </summary>
    public static async Task<Result<ApplicationUser>> FindConfinedAccountAsync(
        UserContext admin, AppDbContext db, Guid userId, CancellationToken cancellationToken)
    {
        if (admin.TenantId is not { } tenantId)
        {
            return NoTenant();
        }

        var member = await FindMemberAsync(db, tenantId, userId, cancellationToken);
        if (member is null)
        {
            return NotFound();
        }

        if (userId == admin.UserId)
        {
            return Self();
        }

        return await IsConfinedToAsync(db, member, tenantId, cancellationToken) ? member : SharedAccount();
    }

    /// <summary>What the trail says an account change acted on: the account's email and id.</summary>
    public static string AuditTarget(ApplicationUser user) => $"user {user.Email} ({user.Id})";

    private const string Upper = "ABCDEFGHJKLMNPQRSTUVWXYZ";
    private const string Lower = "abcdefghijkmnopqrstuvwxyz";
    private const string Digits = "23456789";
    private const string Symbols = "!#$%&*+-=?@";

    /// <summary>A random 20-character password meeting Identity's rules (no look-alike characters), shown once.</summary>
    public static string NewOneTimePassword()
    {
        var all = Upper + Lower + Digits + Symbols;
        var characters = new List<char>
        {
            RandomNumberGenerator.GetItems<char>(Upper, 1)[0],
            RandomNumberGenerator.GetItems<char>(Lower, 1)[0],
            RandomNumberGenerator.GetItems<char>(Digits, 1)[0],
            RandomNumberGenerator.GetItems<char>(Symbols, 1)[0],
        };
        characters.AddRange(RandomNumberGenerator.GetItems<char>(all, 16));
        var shuffled = characters.ToArray();
        RandomNumberGenerator.Shuffle(shuffled.AsSpan());
        return new string(shuffled);
    }
}

/// <summary>
/// One-time passwords, the first password of an account an administrator creates (or a new one they issue): it
/// signs in for <see cref="Lifetime"/> and only to the change-password page, where the person chooses their own.
/// </summary>
public static class OneTimePasswords
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(72);

    /// <summary>Marks <paramref name="user"/> as holding a fresh one-time password; the caller saves the user.</summary>
    public static void Start(ApplicationUser user, DateTimeOffset now)
    {
        user.PasswordMustChange = true;
        user.OneTimePasswordExpiresAt = now + Lifetime;
    }

    /// <summary>A new random one-time password for <paramref name="user"/>, marked as such (expiry and forced change).</summary>
    public static string Issue(ApplicationUser user, DateTimeOffset now)
    {
        Start(user, now);
        return TenantUsers.NewOneTimePassword();
    }

    /// <summary>Whether the account's password is a one-time password past its expiry.</summary>
    public static bool HasExpired(ApplicationUser user, DateTimeOffset now) =>
        user.PasswordMustChange && user.OneTimePasswordExpiresAt is { } expiresAt && expiresAt <= now;

    /// <summary>
    /// Changes a signed-in person's password and, if it was a one-time password, ends that state. The new password
    /// must differ from the old one.
    /// </summary>
    public static async Task<IdentityResult> ChangeAsync(UserManager<ApplicationUser> users, ApplicationUser user, string currentPassword, string newPassword)
    {
        if (string.Equals(currentPassword, newPassword, StringComparison.Ordinal))
        {
            return IdentityResult.Failed(new IdentityError { Code = "PasswordUnchanged", Description = "Choose a new password that differs from the current one." });
        }

        // Cleared before the change so that Identity's one update saves both; put back if the change is refused.
        var (mustChange, expiresAt) = (user.PasswordMustChange, user.OneTimePasswordExpiresAt);
        user.PasswordMustChange = false;
        user.OneTimePasswordExpiresAt = null;
        var changed = await users.ChangePasswordAsync(user, currentPassword, newPassword);
        if (!changed.Succeeded)
        {
            (user.PasswordMustChange, user.OneTimePasswordExpiresAt) = (mustChange, expiresAt);
        }

        return changed;
    }
}

