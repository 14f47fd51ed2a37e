using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using RwePortal.Application.Consent;
using RwePortal.Application.Pipeline;

namespace RwePortal.Application.Audit;

/// <summary>The audit trail and the consent registry's services (the auditing behaviour is registered with the pipeline).</summary>
public static class GovernanceRegistration
{
    public static IServiceCollection AddGovernance(this IServiceCollection services, string appConnectionString)
    {
        services.TryAddSingleton(_ => AppSqlConnections.Create(appConnectionString));
        services.AddScoped<IAuditTrail, AuditTrail>();
        services.AddScoped<IPermissionDeniedListener, AuditPermissionDeniedListener>();
        services.AddScoped<ConsentImporter>();
        services.AddScoped<ConsentSourceAccess>();
        return services;
    }
}
