using MediatR;
using RwePortal.Application.Common;

namespace RwePortal.Application.Audit;

/// <summary>A request that names what it acts on (a person, a file, a protocol id) for the audit trail.</summary>
public interface IAuditTarget
{
    string AuditTarget { get; }
}

/// <summary>A response whose success still has an outcome worth recording (e.g. an import that was rejected).</summary>
public interface IAuditOutcome
{
    string AuditOutcome { get; }
}

/// <summary>
/// After validation: every request whose type is named <c>…Command</c> is on the trail. A handler that changes
/// something records its own event, with target and before/after, inside the transaction of the change
/// (<see cref="IAuditTrail.RecordChangeAsync(Data.AppDbContext, AuditRecord, Guid?, CancellationToken)"/>); this
/// behaviour records the rest: refusals (the error code of a failed result), exceptions, and commands that changed
/// nothing. Queries are not recorded here.
/// </summary>
internal sealed class AuditingBehavior<TRequest, TResponse>(IAuditTrail auditTrail) : IPipelineBehavior<TRequest, TResponse>
{
    private static readonly bool IsCommand = typeof(TRequest).Name.EndsWith("Command", StringComparison.Ordinal);

    private static readonly string RequestName = typeof(TRequest).DeclaringType?.Name ?? typeof(TRequest).Name;

    public async Task<TResponse> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next)
    {
        if (!IsCommand)
        {
            return await next();
        }

        var target = request is IAuditTarget named ? $"{RequestName}: {named.AuditTarget}" : RequestName;
        TResponse response;
        try
        {
            response = await next();
        }
        catch (Exception exception)
        {
            await auditTrail.RecordAsync(new AuditRecord(AuditEventTypes.Command, target, "Exception:" + exception.GetType().Name), CancellationToken.None);
            throw;
        }

        var outcome = OutcomeOf(response);
        if (!(auditTrail.ChangeRecorded && outcome == AuditOutcomes.Success))
        {
            await auditTrail.RecordAsync(new AuditRecord(AuditEventTypes.Command, target, outcome), CancellationToken.None);
        }

        return response;
    }

    private static string OutcomeOf(TResponse response)
    {
        if (response is null)
        {
            return AuditOutcomes.Success;
        }

        var type = response.GetType();
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Result<>))
        {
            var error = (Error?)type.GetProperty(nameof(Result<int>.Error))!.GetValue(response);
            if (error is not null)
            {
                return error.Code;
            }

            return type.GetProperty(nameof(Result<int>.Value))!.GetValue(response) is IAuditOutcome outcome
                ? outcome.AuditOutcome
                : AuditOutcomes.Success;
        }

        return response is IAuditOutcome plain ? plain.AuditOutcome : AuditOutcomes.Success;
    }
}
