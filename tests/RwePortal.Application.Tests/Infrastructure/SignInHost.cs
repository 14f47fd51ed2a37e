using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Tests.Infrastructure;

/// <summary>
/// Identity's sign-in as the portal wires it (<see cref="RweSignInManager"/>, the app role's database), with the
/// cookie schemes replaced by a handler that keeps the issued principal in the request, so a test can read the
/// session a sign-in, a second step or a refresh would put in the cookie.
/// </summary>
public sealed class SignInHost : IAsyncDisposable
{
    private readonly ServiceProvider _provider;

    public SignInHost(AppFixture fixture)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddApplication(fixture.Database.AppConnectionString);
        services.AddSingleton<IUserContextSource>(fixture.CurrentUser);
        var authentication = services.AddAuthentication(IdentityConstants.ApplicationScheme);
        foreach (var scheme in new[]
        {
            IdentityConstants.ApplicationScheme, IdentityConstants.ExternalScheme,
            IdentityConstants.TwoFactorUserIdScheme, IdentityConstants.TwoFactorRememberMeScheme,
        })
        {
            authentication.AddScheme<AuthenticationSchemeOptions, SessionHandler>(scheme, _ => { });
        }

        services.AddRweIdentityCore().AddSignInManager<RweSignInManager>();
        _provider = services.BuildServiceProvider();
    }

    /// <summary>One request: its services, its sign-in manager and the sessions it issued.</summary>
    public Request Begin()
    {
        var scope = _provider.CreateAsyncScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        scope.ServiceProvider.GetRequiredService<IHttpContextAccessor>().HttpContext = context;
        return new Request(scope, context);
    }

    public ValueTask DisposeAsync() => _provider.DisposeAsync();

    public sealed class Request(AsyncServiceScope scope, HttpContext context) : IAsyncDisposable
    {
        public UserManager<ApplicationUser> Users => scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();

        public SignInManager<ApplicationUser> SignIn => scope.ServiceProvider.GetRequiredService<SignInManager<ApplicationUser>>();

        /// <summary>The principal in the portal's sign-in cookie after this request, if one was issued.</summary>
        public ClaimsPrincipal? Session => SessionHandler.Issued(context, IdentityConstants.ApplicationScheme);

        /// <summary>What the portal would let this session do (the same reading the pages and the mediator use).</summary>
        public UserContext SessionUser => UserContextClaims.FromPrincipal(Session ?? new ClaimsPrincipal());

        public async Task<ApplicationUser> FindAsync(string email) =>
            await Users.FindByEmailAsync(email) ?? throw new InvalidOperationException($"No user {email}.");

        public ValueTask DisposeAsync() => scope.DisposeAsync();
    }

    /// <summary>Keeps what is signed in per scheme in the request, and gives it back when the scheme is authenticated.</summary>
    private sealed class SessionHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : SignInAuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public static ClaimsPrincipal? Issued(HttpContext context, string scheme) =>
            context.Items.TryGetValue(Key(scheme), out var principal) ? principal as ClaimsPrincipal : null;

        protected override Task<AuthenticateResult> HandleAuthenticateAsync() =>
            Task.FromResult(Issued(Context, Scheme.Name) is { } principal
                ? AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name))
                : AuthenticateResult.NoResult());

        protected override Task HandleSignInAsync(ClaimsPrincipal user, AuthenticationProperties? properties)
        {
            Context.Items[Key(Scheme.Name)] = user;
            return Task.CompletedTask;
        }

        protected override Task HandleSignOutAsync(AuthenticationProperties? properties)
        {
            Context.Items.Remove(Key(Scheme.Name));
            return Task.CompletedTask;
        }

        private static string Key(string scheme) => $"session:{scheme}";
    }
}
