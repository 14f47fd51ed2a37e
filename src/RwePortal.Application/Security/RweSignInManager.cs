using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Users;

namespace RwePortal.Application.Security;

/// <summary>
/// Identity's sign-in manager with the portal's account rules: disabled users cannot sign in; an expired one-time
/// password does not sign in (<see cref="OneTimePasswordExpired"/>); a session only claims a second factor
/// (<c>amr</c> = <c>mfa</c>) while the account has one enrolled; and a session of an account that must change its
/// password carries <see cref="PasswordMustChangeClaim"/>, which the portal lets through to the change-password page only.
/// </summary>
public sealed class RweSignInManager(
    UserManager<ApplicationUser> userManager,
    IHttpContextAccessor contextAccessor,
    IUserClaimsPrincipalFactory<ApplicationUser> claimsFactory,
    IOptions<IdentityOptions> optionsAccessor,
    ILogger<SignInManager<ApplicationUser>> logger,
    IAuthenticationSchemeProvider schemes,
    IUserConfirmation<ApplicationUser> confirmation)
    : SignInManager<ApplicationUser>(userManager, contextAccessor, claimsFactory, optionsAccessor, logger, schemes, confirmation)
{
    /// <summary>Carried by the session while the account still has the one-time password an administrator issued.</summary>
    public const string PasswordMustChangeClaim = "rwe:password_must_change";

    /// <summary>The result of a correct one-time password that has expired: it is "not allowed", with its own reason.</summary>
    public static readonly SignInResult OneTimePasswordExpired = new OneTimePasswordExpiredResult();

    public override async Task<bool> CanSignInAsync(ApplicationUser user) =>
        !user.IsDisabled && await base.CanSignInAsync(user);

    public override async Task<SignInResult> CheckPasswordSignInAsync(ApplicationUser user, string password, bool lockoutOnFailure)
    {
        var result = await base.CheckPasswordSignInAsync(user, password, lockoutOnFailure);

        // Judged only after the password proved right, so the answer reveals nothing to someone guessing it.
        return result.Succeeded && OneTimePasswords.HasExpired(user, DateTimeOffset.UtcNow) ? OneTimePasswordExpired : result;
    }

    /// <summary>Used for every sign-in and every refresh of the cookie (including the periodic security-stamp check).</summary>
    public override async Task<ClaimsPrincipal> CreateUserPrincipalAsync(ApplicationUser user)
    {
        var principal = await base.CreateUserPrincipalAsync(user);
        if (user.PasswordMustChange && principal.Identity is ClaimsIdentity identity)
        {
            identity.AddClaim(new Claim(PasswordMustChangeClaim, "true"));
        }

        return principal;
    }

    /// <summary>
    /// Every sign-in, second step and refresh ends here. Identity's <see cref="SignInManager{TUser}.RefreshSignInAsync"/>
    /// copies the old session's <c>amr</c>; after the second factor was reset that would keep <c>mfa</c> on a session
    /// whose account has no authenticator any more, so <c>mfa</c> is kept only while one is enrolled.
    /// </summary>
    public override async Task SignInWithClaimsAsync(ApplicationUser user, AuthenticationProperties? authenticationProperties, IEnumerable<Claim> additionalClaims)
    {
        var claims = additionalClaims.ToList();
        if (!await UserManager.GetTwoFactorEnabledAsync(user))
        {
            var downgraded = claims.RemoveAll(c => IsSecondFactorClaim(c)) > 0;
            if (downgraded)
            {
                claims.Add(new Claim(RweClaims.AuthenticationMethod, "pwd"));
            }
        }

        await base.SignInWithClaimsAsync(user, authenticationProperties, claims);
    }

    private static bool IsSecondFactorClaim(Claim claim) =>
        (claim.Type == RweClaims.AuthenticationMethod || claim.Type == ClaimTypes.AuthenticationMethod)
        && string.Equals(claim.Value, SecondFactor.MultiFactorMethod, StringComparison.Ordinal);

    private sealed class OneTimePasswordExpiredResult : SignInResult
    {
        public OneTimePasswordExpiredResult() => IsNotAllowed = true;

        public override string ToString() => "OneTimePasswordExpired";
    }
}
