using Microsoft.AspNetCore.Authorization;
using RwePortal.Application.Security;

namespace RwePortal.Web.Components.Account;

/// <summary>
/// A session signed in with a one-time password reaches nothing but the change-password page (and signing out,
/// and what anonymous visitors may open) until the person has chosen their own password: pages are redirected there,
/// everything else (API, the interactive circuit's hub) answers 403.
/// </summary>
internal static class PasswordChangeGate
{
    public const string ChangePasswordPath = "/Account/Manage/ChangePassword";

    public static IApplicationBuilder UsePasswordChangeGate(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (!context.User.HasClaim(RweSignInManager.PasswordMustChangeClaim, "true") || IsOpen(context))
        {
            await next(context);
            return;
        }

        if (HttpMethods.IsGet(context.Request.Method) && !context.Request.Path.StartsWithSegments("/_blazor", StringComparison.OrdinalIgnoreCase))
        {
            var returnUrl = Uri.EscapeDataString(context.Request.Path + context.Request.QueryString);
            context.Response.Redirect($"{context.Request.PathBase}{ChangePasswordPath}?returnUrl={returnUrl}");
            return;
        }

        context.Response.StatusCode = StatusCodes.Status403Forbidden;
    });

    private static bool IsOpen(HttpContext context)
    {
        var path = context.Request.Path;
        if (path.Equals(ChangePasswordPath, StringComparison.OrdinalIgnoreCase)
            || path.Equals("/Account/Logout", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        // Static assets, health, the sign-in pages: whatever an anonymous visitor may open stays open.
        return !path.StartsWithSegments("/_blazor", StringComparison.OrdinalIgnoreCase)
            && context.GetEndpoint()?.Metadata.GetMetadata<IAllowAnonymous>() is not null;
    }
}
