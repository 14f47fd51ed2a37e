using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using MudBlazor.Services;
using RwePortal.Application;
using RwePortal.Application.Data;
using RwePortal.Application.Security;
using RwePortal.Web.Components;
using RwePortal.Web.Components.Account;
using RwePortal.Web.Security;

var builder = WebApplication.CreateBuilder(args);

// Static assets of referenced packages (MudBlazor, Plotly.Blazor) are served from the build output too,
// so the portal runs from `dotnet RwePortal.Web.dll` without a publish step and never needs a CDN.
builder.WebHost.UseStaticWebAssets();

var appConnectionString = builder.Configuration.GetConnectionString("App")
    ?? throw new InvalidOperationException("Connection string 'App' is not configured (ConnectionStrings__App).");

builder.Services.AddRazorComponents().AddInteractiveServerComponents();
builder.Services.AddMudServices();
builder.Services.AddHttpContextAccessor();

builder.Services.AddCascadingAuthenticationState();
builder.Services.AddScoped<IdentityRedirectManager>();
builder.Services.AddScoped<AuthenticationStateProvider, IdentityRevalidatingAuthenticationStateProvider>();
builder.Services.AddScoped<IUserContextSource, CircuitCurrentUser>();

builder.Services.AddAuthentication(options =>
    {
        options.DefaultScheme = IdentityConstants.ApplicationScheme;
        options.DefaultSignInScheme = IdentityConstants.ExternalScheme;
    })
    .AddIdentityCookies();
builder.Services.ConfigureApplicationCookie(options =>
{
    options.LoginPath = "/Account/Login";
    options.AccessDeniedPath = "/Account/AccessDenied";
    options.Cookie.Name = "rwe.auth";
    options.Cookie.HttpOnly = true;
    options.Cookie.SameSite = SameSiteMode.Strict;
    options.SlidingExpiration = true;
    options.ExpireTimeSpan = TimeSpan.FromHours(8);
});
builder.Services.Configure<SecurityStampValidatorOptions>(options =>
{
    // Each request re-checks the cookie against the account at most a minute after the last check, as the circuits
    // do: a disabled user, a removed role or a reset second factor ends the cookie too, not only the open page.
    options.ValidationInterval = TimeSpan.FromMinutes(1);

    // Keep how the session was signed in (amr: pwd or mfa) when the principal is rebuilt; admin pages need mfa.
    options.OnRefreshingPrincipal = context =>
    {
        var method = context.CurrentPrincipal?.FindFirst(RweClaims.AuthenticationMethod);
        if (method is not null && context.NewPrincipal?.Identity is System.Security.Claims.ClaimsIdentity identity)
        {
            identity.AddClaim(new System.Security.Claims.Claim(method.Type, method.Value));
        }

        return Task.CompletedTask;
    };
});
builder.Services.AddAuthorizationBuilder()
    .SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
    .AddPermissionPolicies();

// The portal holds the app role's connection and the warehouse reader's, never the owner's (docs/security.md).
builder.Services.AddApplication(appConnectionString, builder.Configuration.GetConnectionString("Warehouse"));
builder.Services.AddRweIdentityCore().AddSignInManager<RweSignInManager>();

var app = builder.Build();

if (!app.Environment.IsDevelopment())
{
    app.UseExceptionHandler("/Error", createScopeForErrors: true);
}

app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
app.UseAntiforgery();

app.MapStaticAssets().AllowAnonymous();
app.MapGet("/health", () => Results.Text("ok")).AllowAnonymous();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
app.MapAccountEndpoints();

await app.RunAsync();

/// <summary>Exposed for test hosts.</summary>
public partial class Program;
