using FluentValidation;
using MediatR;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Consent;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Consent;

/// <summary>
/// Grants or withdraws one person's consent for a purpose from a date, with a mandatory reason. Appends a record
/// (nothing is changed in place) and its ConsentChanged audit event, under the custodian tenant's id, in one
/// transaction. Only the source's custodian may (<see cref="ConsentSourceAccess.RequireCustodianAsync"/>), and the
/// insert runs under row-level security for that tenant. A withdrawal cannot start after today: it applies now.
/// </summary>
public static class RecordConsent
{
    [RequiresPermission(Permission.ManageConsent)]
    public sealed record Command(
        string Source,
        long PersonId,
        string Purpose,
        string Status,
        DateOnly EffectiveFrom,
        DateOnly? EffectiveTo,
        string Reason) : IRequest<Result<Response>>, IAuditTarget
    {
        public string AuditTarget => $"{Source} person {PersonId} {Purpose} {Status}";
    }

    public sealed record Response(long ConsentId);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.Source).NotEmpty().MaximumLength(64);
            RuleFor(c => c.PersonId).GreaterThan(0);
            RuleFor(c => c.Purpose).NotEmpty();
            RuleFor(c => c.Status).Must(s => ConsentStatuses.All.Contains(s)).WithMessage("Status is granted or withdrawn.");
            RuleFor(c => c.Reason).NotEmpty().WithMessage("Give a reason for the change.").MaximumLength(ConsentImporter.MaxReasonLength);
            RuleFor(c => c.EffectiveTo).Must((c, to) => to is null || to >= c.EffectiveFrom)
                .WithMessage("The end date is before the start date.");
            RuleFor(c => c.EffectiveTo).Null().When(c => c.Status == ConsentStatuses.Withdrawn)
                .WithMessage("A withdrawal has no end date.");
        }
    }

    internal sealed class Handler(AppSqlConnections connections, ICurrentUser currentUser, ConsentSourceAccess access, IAuditTrail audit) : IRequestHandler<Command, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Command request, CancellationToken cancellationToken)
        {
            var user = await currentUser.GetAsync(cancellationToken);
            var custodian = await access.RequireCustodianAsync(request.Source, cancellationToken);
            if (!custodian.Succeeded)
            {
                return custodian.Error!;
            }

            await using var connection = await connections.OpenAsync(cancellationToken);
            var purposes = await ConsentRegistry.PurposesAsync(connection, cancellationToken);
            if (!purposes.Any(p => p.Code == request.Purpose && p.Active))
            {
                return new Error(ConsentErrors.UnknownPurpose, $"'{request.Purpose}' is not an active consent purpose.");
            }

            if (request.Status == ConsentStatuses.Withdrawn && request.EffectiveFrom > await ConsentRegistry.TodayAsync(connection, cancellationToken))
            {
                return new Error(ConsentErrors.FutureWithdrawal, "A withdrawal applies from the day it is recorded: its date cannot be after today.");
            }

            if ((await ConsentRegistry.FindPersonsAsync(connection, request.Source, [request.PersonId], [], cancellationToken)).Count == 0)
            {
                return Error.NotFound("Person");
            }

            var custodianTenantId = custodian.Value!.CustodianTenantId;
            await using var transaction = await ConsentRegistry.BeginForTenantAsync(connection, custodianTenantId, cancellationToken);
            var entry = new ConsentEntry(request.PersonId, request.Purpose, request.Status, request.EffectiveFrom, request.EffectiveTo, request.Reason.Trim());
            var consentId = await ConsentRegistry.InsertAsync(connection, transaction, request.Source, user.Email, entry, cancellationToken);
            await audit.RecordChangeAsync(
                connection,
                transaction,
                new AuditRecord(
                    AuditEventTypes.ConsentChanged,
                    $"{request.Source} person {request.PersonId}",
                    AuditOutcomes.Success,
                    new Dictionary<string, object?>
                    {
                        ["consent_id"] = consentId,
                        ["purpose"] = request.Purpose,
                        ["status"] = request.Status,
                        ["effective_from"] = request.EffectiveFrom.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                        ["effective_to"] = request.EffectiveTo?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                        ["reason"] = request.Reason.Trim(),
                    }),
                custodianTenantId,
                cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(consentId);
        }
    }
}
