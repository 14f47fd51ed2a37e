using FluentValidation;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using RwePortal.Application.Data;
using RwePortal.Application.Pipeline;

namespace RwePortal.Application;

public static class DependencyInjection
{
    /// <summary>
    /// Registers the mediator, the slices, their validators and the pipeline (in this order: logging →
    /// authorization → validation), and the app database. The host supplies <see cref="Security.ICurrentUser"/>.
    /// </summary>
    public static IServiceCollection AddApplication(this IServiceCollection services, string appConnectionString)
    {
        services.AddDbContextFactory<AppDbContext>(options => AppDatabase.Configure(options, appConnectionString));
        services.AddScoped<TenantDbContextFactory>();

        services.AddScoped<ServiceFactory>(provider => provider.GetService!);
        services.AddScoped<IMediator, Mediator>();
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
