using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using RwePortal.Application.Security;

namespace RwePortal.Application.Data;

/// <summary>Identity's rules, the same for the portal, the CLI and the tests.</summary>
public static class IdentitySetup
{
    /// <summary>OWASP's current advice for PBKDF2-HMAC-SHA512 (Identity's v3 format).</summary>
    public const int PasswordHashIterations = 210_000;

    public const int MaxFailedSignIns = 5;

    public static IdentityBuilder AddRweIdentityCore(this IServiceCollection services)
    {
        // The key ring lives in app.data_protection_keys: a restart (or a second instance) reads the same keys, so
        // sign-in cookies and antiforgery tokens stay valid.
        services.AddDataProtection().SetApplicationName("RwePortal").PersistKeysToDbContext<AppDbContext>();
        services.Configure<PasswordHasherOptions>(options =>
        {
            options.CompatibilityMode = PasswordHasherCompatibilityMode.IdentityV3;
            options.IterationCount = PasswordHashIterations;
        });

        services.AddScoped<IReauthenticationService, ReauthenticationService>();
        return services
            .AddIdentityCore<ApplicationUser>(options =>
            {
                options.User.RequireUniqueEmail = true;
                options.SignIn.RequireConfirmedAccount = false;
                options.Password.RequiredLength = 12;
                options.Lockout.AllowedForNewUsers = true;
                options.Lockout.MaxFailedAccessAttempts = MaxFailedSignIns;
                options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
            })
            .AddEntityFrameworkStores<AppDbContext>()
            .AddClaimsPrincipalFactory<RweClaimsPrincipalFactory>()
            .AddDefaultTokenProviders();
    }
}
