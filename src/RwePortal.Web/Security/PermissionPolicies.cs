using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Identity;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Web.Security;

/// <summary>
/// One authorization policy per <see cref="Permission"/>, named after it, so pages say
/// <c>[Authorize(Policy = nameof(Permission.X))]</c> and are judged by the same rule as the mediator's requests
/// (<see cref="UserContext.Has"/>: the roles in the current tenant, and a second-factor sign-in for admin permissions).
/// </summary>
internal static class PermissionPolicies
{
    /// <summary>The failure reason when the roles grant the permission but the session lacks a second factor.</summary>
    public const string SecondFactorRequired = "second-factor-required";

    public static AuthorizationBuilder AddPermissionPolicies(this AuthorizationBuilder builder)
    {
        foreach (var permission in Enum.GetValues<Permission>())
        {
            builder.AddPolicy(permission.ToString(), policy => policy
                .RequireAuthenticatedUser()
                .AddRequirements(new PermissionRequirement(permission)));
        }

        builder.Services.AddSingleton<IAuthorizationHandler, PermissionAuthorizationHandler>();
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, SecondFactorAuthorizationResultHandler>();
        return builder;
    }
}

internal sealed record PermissionRequirement(Permission Permission) : IAuthorizationRequirement;

internal sealed class PermissionAuthorizationHandler : AuthorizationHandler<PermissionRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, PermissionRequirement requirement)
    {
        var user = UserContextClaims.FromPrincipal(context.User);
        if (user.Has(requirement.Permission))
        {
            context.Succeed(requirement);
        }
        else if (user.IsAuthenticated && user.Permissions.Contains(requirement.Permission))
        {
            context.Fail(new AuthorizationFailureReason(this, PermissionPolicies.SecondFactorRequired));
        }

        return Task.CompletedTask;
    }
}

/// <summary>
/// An administrator refused only for want of a second factor is sent to set one up (or, if they have one, to sign in
/// again with it) and brought back, instead of seeing "access denied".
/// </summary>
internal sealed class SecondFactorAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        var needsSecondFactor = authorizeResult.Forbidden
            && authorizeResult.AuthorizationFailure?.FailureReasons.Any(r => r.Message == PermissionPolicies.SecondFactorRequired) == true;
        if (!needsSecondFactor)
        {
            await _default.HandleAsync(next, context, policy, authorizeResult);
            return;
        }

        var returnUrl = Uri.EscapeDataString(context.Request.PathBase + context.Request.Path + context.Request.QueryString);
        var users = context.RequestServices.GetRequiredService<UserManager<ApplicationUser>>();
        var user = await users.GetUserAsync(context.User);
        if (user is not null && await users.GetTwoFactorEnabledAsync(user))
        {
            // Enrolled, but this session was not signed in with it: sign in again, second factor included.
            await context.RequestServices.GetRequiredService<SignInManager<ApplicationUser>>().SignOutAsync();
            context.Response.Redirect($"{context.Request.PathBase}/Account/Login?returnUrl={returnUrl}");
            return;
        }

        context.Response.Redirect($"{context.Request.PathBase}/Account/Manage/EnableAuthenticator?returnUrl={returnUrl}");
    }
}
