using System.Diagnostics;
using MediatR;
using Microsoft.Extensions.Logging;

namespace RwePortal.Application.Pipeline;

/// <summary>First in the pipeline: names the request, times it, and logs slow ones as warnings.</summary>
internal sealed class LoggingBehavior<TRequest, TResponse>(ILogger<LoggingBehavior<TRequest, TResponse>> logger)
    : IPipelineBehavior<TRequest, TResponse>
{
    private static readonly TimeSpan SlowRequest = TimeSpan.FromMilliseconds(500);

    public async Task<TResponse> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next)
    {
        var name = typeof(TRequest).DeclaringType?.Name ?? typeof(TRequest).Name;
        var stopwatch = Stopwatch.StartNew();
        try
        {
            return await next();
        }
        finally
        {
            var elapsed = stopwatch.Elapsed;
            if (elapsed > SlowRequest)
            {
                logger.LogWarning("{Request} took {ElapsedMs} ms", name, (long)elapsed.TotalMilliseconds);
            }
            else
            {
                logger.LogDebug("{Request} took {ElapsedMs} ms", name, (long)elapsed.TotalMilliseconds);
            }
        }
    }
}
