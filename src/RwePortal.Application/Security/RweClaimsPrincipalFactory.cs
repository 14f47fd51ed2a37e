using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using RwePortal.Application.Data;
using RwePortal.Application.Tenancy;

namespace RwePortal.Application.Security;

/// <summary>
/// Puts the current tenant and the user's roles in it into the sign-in cookie. The tenant is the one the user
/// last chose if they still belong to it, else their first membership.
/// </summary>
internal sealed class RweClaimsPrincipalFactory(
    UserManager<ApplicationUser> userManager,
    IOptions<IdentityOptions> options,
    IDbContextFactory<AppDbContext> contexts)
    : UserClaimsPrincipalFactory<ApplicationUser>(userManager, options)
{
    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(ApplicationUser user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        identity.AddClaim(new Claim(RweClaims.DisplayName, user.DisplayName));
        if (user.IsPlatformAdmin)
        {
            identity.AddClaim(new Claim(RweClaims.PlatformAdmin, "true"));
        }

        await using var db = await contexts.CreateDbContextAsync();
        var memberships = (await UserMemberships.OfAsync(db, user.Id, CancellationToken.None))
            .Where(m => m.TenantActive)
            .Select(m => new { Id = m.TenantId, Name = m.TenantName, m.Role })
            .ToList();

        var tenant = memberships.FirstOrDefault(m => m.Id == user.CurrentTenantId)
            ?? memberships.OrderBy(m => m.Name, StringComparer.Ordinal).FirstOrDefault();
        if (tenant is null && user is { IsPlatformAdmin: true, CurrentTenantId: { } adminTenant })
        {
            // A platform Admin may look at any tenant without holding a role in it.
            var chosen = await db.Tenants.AsNoTracking().Where(t => t.Id == adminTenant).Select(t => new { t.Id, t.Name }).SingleOrDefaultAsync();
            if (chosen is not null)
            {
                identity.AddClaim(new Claim(RweClaims.TenantId, chosen.Id.ToString()));
                identity.AddClaim(new Claim(RweClaims.TenantName, chosen.Name));
            }

            return identity;
        }

        if (tenant is not null)
        {
            identity.AddClaim(new Claim(RweClaims.TenantId, tenant.Id.ToString()));
            identity.AddClaim(new Claim(RweClaims.TenantName, tenant.Name));
            foreach (var membership in memberships.Where(m => m.Id == tenant.Id))
            {
                identity.AddClaim(new Claim(RweClaims.TenantRole, membership.Role.ToString()));
            }
        }

        return identity;
    }
}

/// <summary>Reads a <see cref="UserContext"/> back out of a principal made by <see cref="RweClaimsPrincipalFactory"/>.</summary>
public static class UserContextClaims
{
    public static UserContext FromPrincipal(ClaimsPrincipal principal)
    {
        if (principal.Identity?.IsAuthenticated != true
            || !Guid.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), out var userId))
        {
            return UserContext.Anonymous;
        }

        Guid? tenantId = Guid.TryParse(principal.FindFirstValue(RweClaims.TenantId), out var parsed) ? parsed : null;
        var roles = principal.FindAll(RweClaims.TenantRole)
            .Select(claim => Enum.TryParse<TenantRole>(claim.Value, out var role) ? role : (TenantRole?)null)
            .OfType<TenantRole>()
            .ToList();

        return new UserContext(
            userId,
            principal.FindFirstValue(ClaimTypes.Email) ?? principal.FindFirstValue(ClaimTypes.Name) ?? "",
            principal.FindFirstValue(RweClaims.DisplayName) ?? "",
            string.Equals(principal.FindFirstValue(RweClaims.PlatformAdmin), "true", StringComparison.Ordinal),
            tenantId,
            principal.FindFirstValue(RweClaims.TenantName),
            roles)
        {
            SignedInWithSecondFactor = principal.HasClaim(RweClaims.AuthenticationMethod, SecondFactor.MultiFactorMethod),
        };
    }
}
