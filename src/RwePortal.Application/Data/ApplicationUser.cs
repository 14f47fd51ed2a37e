using Microsoft.AspNetCore.Identity;

namespace RwePortal.Application.Data;

/// <summary>A person who signs in. Tenant roles live in <see cref="Tenancy.TenantMembership"/>.</summary>
public sealed class ApplicationUser : IdentityUser<Guid>
{
    public string DisplayName { get; set; } = "";

    /// <summary>Platform administrators manage tenants and data sources across the platform.</summary>
    public bool IsPlatformAdmin { get; set; }

    /// <summary>A disabled user cannot sign in and loses open sessions at the next revalidation.</summary>
    public bool IsDisabled { get; set; }

    /// <summary>The tenant the user last worked in; the sign-in cookie carries it.</summary>
    public Guid? CurrentTenantId { get; set; }

    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>
    /// Set while the account's password is a one-time password an administrator handed over: the person must choose
    /// their own before anything else opens.
    /// </summary>
    public bool PasswordMustChange { get; set; }

    /// <summary>When the one-time password stops signing in (72 hours after it was issued); null once changed.</summary>
    public DateTimeOffset? OneTimePasswordExpiresAt { get; set; }
}
