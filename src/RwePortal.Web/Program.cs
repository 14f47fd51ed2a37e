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
builder.Services.AddScoped<ICurrentUser, CircuitCurrentUser>();

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
builder.Services.AddAuthorizationBuilder()
    .SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());

builder.Services.AddApplication(appConnectionString);
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
