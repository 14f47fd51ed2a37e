using System.Security.Claims;
using RwePortal.Application.Audit;
using RwePortal.Application.Security;

namespace RwePortal.Web.Components.Account;

/// <summary>
/// The audit event of a change a signed-in user makes to their own account on the account pages (password, second
/// factor, recovery codes): a Command on "own account" with the action, filed under the user's current tenant. Written
/// once Identity has saved the change (these pages change the account through UserManager, which commits on its own).
/// </summary>
public static class AccountAudit
{
    public static Task RecordAsync(IAuditTrail trail, ClaimsPrincipal principal, string action)
    {
        ArgumentNullException.ThrowIfNull(trail);
        var actor = AuditActor.From(UserContextClaims.FromPrincipal(principal));
        return trail.RecordAsync(
            actor,
            new AuditRecord(AuditEventTypes.Command, "own account", AuditOutcomes.Success, new Dictionary<string, object?> { ["action"] = action }));
    }
}
