using System.Reflection;
using MediatR;
using Microsoft.Extensions.Logging;
using RwePortal.Application.Common;
using RwePortal.Application.Security;

namespace RwePortal.Application.Pipeline;

/// <summary>
/// Refuses a request unless the current user holds the permission the request declares with
/// <see cref="RequiresPermissionAttribute"/>. A request without a declaration is a bug and never runs.
/// </summary>
internal sealed class AuthorizationBehavior<TRequest, TResponse>(
    ICurrentUser currentUser,
    IEnumerable<IPermissionDeniedListener> listeners,
    ILogger<AuthorizationBehavior<TRequest, TResponse>> logger)
    : IPipelineBehavior<TRequest, TResponse>
{
    private static readonly RequiresPermissionAttribute? Declared =
        typeof(TRequest).GetCustomAttribute<RequiresPermissionAttribute>();

    public async Task<TResponse> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next)
    {
        if (Declared is null)
        {
            throw new InvalidOperationException($"{typeof(TRequest).FullName} declares no permission.");
        }

        var user = await currentUser.GetAsync(cancellationToken);
        if (user.Has(Declared.Permission))
        {
            return await next();
        }

        var error = user.IsAuthenticated ? Error.Forbidden(Declared.Permission.ToString()) : Error.Unauthenticated();
        logger.LogWarning("Denied {Request} to {User}: {Code}", typeof(TRequest).FullName, user.Email, error.Code);
        foreach (var listener in listeners)
        {
            await listener.OnDeniedAsync(user, typeof(TRequest), Declared.Permission, cancellationToken);
        }

        return ResultFactory.TryFailure<TResponse>(error, out var failure)
            ? failure
            : throw new UnauthorizedAccessException(error.Message);
    }
}

/// <summary>Told of every permission denial (the audit trail records them).</summary>
public interface IPermissionDeniedListener
{
    Task OnDeniedAsync(UserContext user, Type requestType, Permission permission, CancellationToken cancellationToken);
}
