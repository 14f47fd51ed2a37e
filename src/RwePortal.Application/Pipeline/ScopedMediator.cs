using MediatR;
using Microsoft.Extensions.DependencyInjection;
using RwePortal.Application.Security;

namespace RwePortal.Application.Pipeline;

/// <summary>
/// The mediator callers get. Each request runs in a DI scope of its own, bound to the caller's user and tenant, so a
/// handler and everything it resolves (contexts, <c>UserManager</c>, connections) live for one operation, not for the
/// hours of a Blazor Server circuit whose scope the caller holds.
/// </summary>
internal sealed class ScopedMediator(IServiceScopeFactory scopes, ICurrentUser caller) : IMediator
{
    public async Task<TResponse> Send<TResponse>(IRequest<TResponse> request, CancellationToken cancellationToken = default)
    {
        var user = await caller.GetAsync(cancellationToken);
        await using var scope = scopes.CreateAsyncScope();
        return await Inner(scope, user).Send(request, cancellationToken);
    }

    public async Task Publish<TNotification>(TNotification notification, CancellationToken cancellationToken = default)
        where TNotification : INotification
    {
        var user = await caller.GetAsync(cancellationToken);
        await using var scope = scopes.CreateAsyncScope();
        await Inner(scope, user).Publish(notification, cancellationToken);
    }

    private static Mediator Inner(AsyncServiceScope scope, UserContext user)
    {
        scope.ServiceProvider.GetRequiredService<CurrentUser>().Bind(user);
        return scope.ServiceProvider.GetRequiredService<Mediator>();
    }
}
