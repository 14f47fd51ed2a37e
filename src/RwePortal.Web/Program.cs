using System.Net;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Authentication.Cookies;
using MudBlazor.Services;
using RwePortal.Application;
using RwePortal.Application.Data;
using RwePortal.Application.Jobs;
using RwePortal.Application.Security;
using RwePortal.Web.Components;
using RwePortal.Web.Components.Account;
using RwePortal.Web.Features.Protocols;
using RwePortal.Web.Features.Subgroups;
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
    // Secure whenever the request came over HTTPS (directly or, with ReverseProxy:Enabled, through a proxy that says
    // so): the demo still works over plain HTTP on the loopback address.
    options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
    options.SlidingExpiration = true;
    options.ExpireTimeSpan = TimeSpan.FromHours(8);
});
builder.Services.ConfigureExternalCookie(options => options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest);
builder.Services.Configure<CookieAuthenticationOptions>(IdentityConstants.TwoFactorUserIdScheme, options =>
{
    options.Cookie.HttpOnly = true;
    options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
});
builder.Services.Configure<AntiforgeryOptions>(options => options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest);

// HSTS on every HTTPS response outside Development (Kestrel's own TLS, or a TLS-terminating proxy): browsers then
// refuse plain HTTP to this host for a year. Browsers ignore the header on HTTP, and loopback hosts never get it.
builder.Services.AddHsts(options =>
{
    options.MaxAge = TimeSpan.FromDays(365);
    options.IncludeSubDomains = builder.Configuration.GetValue("Hsts:IncludeSubDomains", false);
});

// Behind a TLS-terminating reverse proxy (docs/deployment.md): trust X-Forwarded-Proto/-For only from the proxies
// named in ReverseProxy:KnownProxies / ReverseProxy:KnownNetworks (the loopback address when none are named).
var reverseProxy = builder.Configuration.GetSection("ReverseProxy");
var behindReverseProxy = reverseProxy.GetValue("Enabled", false);
if (behindReverseProxy)
{
    builder.Services.Configure<ForwardedHeadersOptions>(options =>
    {
        options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
        options.ForwardLimit = 1;
        var proxies = reverseProxy.GetSection("KnownProxies").Get<string[]>() ?? [];
        var networks = reverseProxy.GetSection("KnownNetworks").Get<string[]>() ?? [];
        if (proxies.Length + networks.Length > 0)
        {
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var proxy in proxies)
            {
                options.KnownProxies.Add(IPAddress.Parse(proxy));
            }

            foreach (var network in networks)
            {
                options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }
        }
    });
}

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
builder.Services.AddScoped<ProtocolPdfRenderer>();

// Analysis runs: the durable queue's worker (section AnalysisWorker) and the live progress pages subscribe to.
builder.Services.AddAnalysisRuns(options => builder.Configuration.GetSection(AnalysisWorkerOptions.Section).Bind(options));

var app = builder.Build();

if (behindReverseProxy)
{
    // First, so that everything after (HSTS, Secure cookies, redirects) sees the scheme the browser used.
    app.UseForwardedHeaders();
}

if (!app.Environment.IsDevelopment())
{
    app.UseExceptionHandler("/Error", createScopeForErrors: true);
    app.UseHsts();
}

app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
app.UseRouting();
app.UseAuthentication();
// A one-time password opens the change-password page only: before authorization, so no page or API runs first.
app.UsePasswordChangeGate();
app.UseAuthorization();
app.UseAntiforgery();

app.MapStaticAssets().AllowAnonymous();
app.MapGet("/health", () => Results.Text("ok")).AllowAnonymous();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
app.MapAccountEndpoints();
app.MapSubgroupExports();
app.MapProtocolFiles();

await app.RunAsync();

/// <summary>Exposed for test hosts.</summary>
public partial class Program;
