using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Data;
using RwePortal.Application.Tenancy;

namespace RwePortal.Web.Components.Account;

/// <summary>The account endpoints that are form posts rather than pages: sign out and switch tenant.</summary>
internal static class AccountEndpoints
{
    public static IEndpointConventionBuilder MapAccountEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var account = endpoints.MapGroup("/Account");

        account.MapPost("/Logout", async (
            HttpContext context,
            [FromServices] SignInManager<ApplicationUser> signInManager,
            [FromServices] RwePortal.Application.Audit.IAuditTrail auditTrail,
            [FromForm] string? returnUrl) =>
        {
            await auditTrail.RecordSignOutAsync(context.User);
            await signInManager.SignOutAsync();
            return TypedResults.LocalRedirect(ReturnUrls.ToLocal(returnUrl, BaseUri(context)));
        }).AllowAnonymous();

        // Switching tenant re-issues the cookie with the new tenant and its roles, then reloads the page.
        account.MapPost("/SwitchTenant", async (
            HttpContext context,
            [FromServices] UserManager<ApplicationUser> userManager,
            [FromServices] SignInManager<ApplicationUser> signInManager,
            [FromServices] IDbContextFactory<AppDbContext> contexts,
            [FromForm] Guid tenantId,
            [FromForm] string? returnUrl) =>
        {
            var user = await userManager.GetUserAsync(context.User);
            if (user is null)
            {
                return Results.Unauthorized();
            }

            await using var db = await contexts.CreateDbContextAsync();
            var allowed = user.IsPlatformAdmin
                ? await db.Tenants.AnyAsync(t => t.Id == tenantId && t.IsActive)
                : (await UserMemberships.OfAsync(db, user.Id, context.RequestAborted)).Any(m => m.TenantId == tenantId && m.TenantActive);
            if (!allowed)
            {
                return Results.NotFound();
            }

            user.CurrentTenantId = tenantId;
            await userManager.UpdateAsync(user);
            await signInManager.RefreshSignInAsync(user);
            return Results.LocalRedirect(ReturnUrls.ToLocal(returnUrl, BaseUri(context)));
        });

        return account;
    }

    private static string BaseUri(HttpContext context) =>
        $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}/";
}
