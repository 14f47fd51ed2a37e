using FluentValidation;
using MediatR;
using RwePortal.Application.Common;

namespace RwePortal.Application.Pipeline;

/// <summary>Runs the request's FluentValidation validator; an invalid request returns a failed result, never reaching the handler.</summary>
internal sealed class ValidationBehavior<TRequest, TResponse>(IEnumerable<IValidator<TRequest>> validators)
    : IPipelineBehavior<TRequest, TResponse>
{
    public async Task<TResponse> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next)
    {
        var failures = new List<string>();
        foreach (var validator in validators)
        {
            var result = await validator.ValidateAsync(request, cancellationToken);
            failures.AddRange(result.Errors.Select(error => error.ErrorMessage));
        }

        if (failures.Count == 0)
        {
            return await next();
        }

        var error = Error.Validation(failures);
        return ResultFactory.TryFailure<TResponse>(error, out var failure)
            ? failure
            : throw new ValidationException(error.Message);
    }
}
