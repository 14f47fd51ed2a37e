using RwePortal.Application.Pipeline;
using RwePortal.Application.Security;

namespace RwePortal.Application.Audit;

/// <summary>Records every request the authorization behaviour refused.</summary>
internal sealed class AuditPermissionDeniedListener(IAuditTrail auditTrail) : IPermissionDeniedListener
{
    public Task OnDeniedAsync(UserContext user, Type requestType, Permission permission, CancellationToken cancellationToken)
    {
        var request = requestType.DeclaringType?.Name ?? requestType.Name;
        var details = new Dictionary<string, object?>
        {
            ["permission"] = permission.ToString(),
            ["authenticated"] = user.IsAuthenticated,
        };
        return auditTrail.RecordAsync(
            AuditActor.From(user),
            new AuditRecord(AuditEventTypes.PermissionDenied, request, AuditOutcomes.Denied, details),
            cancellationToken);
    }
}
