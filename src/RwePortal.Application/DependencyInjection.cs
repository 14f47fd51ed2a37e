using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using RwePortal.Application.Data;
using RwePortal.Application.Pipeline;
using RwePortal.Application.Security;
using RwePortal.Warehouse;

namespace RwePortal.Application;

public static class DependencyInjection
{
    /// <summary>
    /// Registers the mediator, the slices, their validators and the pipeline (in this order: logging →
    /// authorization → validation), and the app database. The host supplies an <see cref="IUserContextSource"/>.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="appConnectionString">The app role's connection (rwe_app).</param>
    /// <param name="warehouseConnectionString">The read-only warehouse role's connection (<see cref="WarehouseConnections"/>); hosts that read no warehouse pass none.</param>
    public static IServiceCollection AddApplication(this IServiceCollection services, string appConnectionString, string? warehouseConnectionString = null)
    {
        if (warehouseConnectionString is not null)
        {
            services.AddSingleton(_ => WarehouseConnections.Create(warehouseConnectionString));

            // The run pipeline of analyses (the job worker and `rwe run-protocol` run the same one).
            services.TryAddSingleton(TimeProvider.System);
            services.AddScoped<Analyses.IAnalysisSources, Analyses.RegisteredAnalysisSources>();
            services.AddSingleton<Analyses.IBaselineCovariateExtractor, Analyses.WarehouseCovariateExtractor>();
            services.AddScoped<Analyses.IProtocolRunPipeline, Analyses.ProtocolRunPipeline>();
        }

        services.AddDbContextFactory<AppDbContext>(options => AppDatabase.Configure(options, appConnectionString));

        // The context Identity's stores use. Inside a request's scope it is bound to the request's tenant, so a handler
        // that changes accounts and tenant rows does both in one context, one connection and one transaction.
        services.AddScoped(provider =>
        {
            var context = provider.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContext();
            if (provider.GetRequiredService<CurrentUser>().Bound?.TenantId is { } tenantId)
            {
                context.BindTo(TenantScope.For(tenantId));
            }

            return context;
        });
        services.AddScoped<TenantDbContextFactory>();
        services.AddScoped<Privacy.SmallCellPolicies>();
        services.AddScoped<Features.Subgroups.SubgroupReferences>();

        // Who a scope works for: bound per request by the mediator, per job by a worker; else the host's source.
        services.AddScoped<CurrentUser>();
        services.AddScoped<ICurrentUser>(provider => provider.GetRequiredService<CurrentUser>());

        // Callers get the scoped mediator: every request runs in a DI scope of its own (a circuit's scope lives for hours).
        services.AddScoped<ServiceFactory>(provider => provider.GetService!);
        services.AddScoped<Mediator>();
        services.AddScoped<IMediator, ScopedMediator>();
        Audit.GovernanceRegistration.AddGovernance(services, appConnectionString);

        // The pipeline, outermost first: MediatR 5 runs behaviours in registration order.
        services.AddScoped(typeof(IPipelineBehavior<,>), typeof(LoggingBehavior<,>));
        services.AddScoped(typeof(IPipelineBehavior<,>), typeof(AuthorizationBehavior<,>));
        services.AddScoped(typeof(IPipelineBehavior<,>), typeof(ValidationBehavior<,>));
        services.AddScoped(typeof(IPipelineBehavior<,>), typeof(Audit.AuditingBehavior<,>));

        var assembly = typeof(DependencyInjection).Assembly;
        foreach (var handler in assembly.GetTypes().Where(type => type is { IsAbstract: false, IsInterface: false }))
        {
            foreach (var contract in handler.GetInterfaces()
                .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IRequestHandler<,>)))
            {
                services.AddScoped(contract, handler);
            }
        }

        services.AddValidatorsFromAssembly(assembly, ServiceLifetime.Scoped, includeInternalTypes: true);
        return services;
    }
}
