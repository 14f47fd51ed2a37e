using Microsoft.AspNetCore.Identity;
using RwePortal.Application.Data;

namespace RwePortal.Application.Security;

/// <summary>The outcome of asking a signed-in person for their password again.</summary>
public enum ReauthenticationOutcome
{
    Verified,
    WrongPassword,
    LockedOut,

    /// <summary>No such user, or the account is disabled.</summary>
    NotAllowed,
}

/// <summary>
/// Asks a signed-in person to prove again that they are who the session says (electronic signatures, 21 CFR
/// Part 11 style): the password is checked through Identity, and wrong ones count towards lockout like at sign-in.
/// </summary>
public interface IReauthenticationService
{
    Task<ReauthenticationOutcome> VerifyAsync(Guid userId, string password, CancellationToken cancellationToken = default);
}

internal sealed class ReauthenticationService(UserManager<ApplicationUser> users) : IReauthenticationService
{
    public async Task<ReauthenticationOutcome> VerifyAsync(Guid userId, string password, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var user = await users.FindByIdAsync(userId.ToString());
        if (user is null || user.IsDisabled)
        {
            return ReauthenticationOutcome.NotAllowed;
        }

        if (await users.IsLockedOutAsync(user))
        {
            return ReauthenticationOutcome.LockedOut;
        }

        if (await users.CheckPasswordAsync(user, password))
        {
            await users.ResetAccessFailedCountAsync(user);
            return ReauthenticationOutcome.Verified;
        }

        await users.AccessFailedAsync(user);
        return await users.IsLockedOutAsync(user) ? ReauthenticationOutcome.LockedOut : ReauthenticationOutcome.WrongPassword;
    }
}
