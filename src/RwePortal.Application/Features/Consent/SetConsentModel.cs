using Dapper;
using FluentValidation;
using MediatR;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Consent;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Consent;

/// <summary>
/// Sets how a source's people are counted for a purpose (opt-in, opt-out, or waiver with its reference). The
/// custodian's act only; appends a gov.consent_model row (the latest is in force) and a ConsentChanged audit event
/// with the model before and after, under the custodian tenant's id, in one transaction.
/// </summary>
public static class SetConsentModel
{
    public const int MaxReferenceLength = 200;

    [RequiresPermission(Permission.ManageConsent)]
    public sealed record Command(string Source, string Purpose, string Model, string? Reference) : IRequest<Result<Response>>, IAuditTarget
    {
        public string AuditTarget => $"{Source} {Purpose} model {Model}";
    }

    public sealed record Response(long ModelId, string PreviousModel, string Model);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.Source).NotEmpty().MaximumLength(64);
            RuleFor(c => c.Purpose).NotEmpty().MaximumLength(64);
            RuleFor(c => c.Model).Must(m => ConsentModels.All.Contains(m)).WithMessage("The model is opt_in, opt_out or waiver.");
            RuleFor(c => c.Reference).MaximumLength(MaxReferenceLength);
            RuleFor(c => c.Reference).Must(r => !string.IsNullOrWhiteSpace(r)).When(c => c.Model == ConsentModels.Waiver)
                .WithMessage("A waiver needs its reference (e.g. the IRB decision number).");
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
            if (!purposes.Any(p => p.Code == request.Purpose))
            {
                return new Error(ConsentErrors.UnknownPurpose, $"'{request.Purpose}' is not a consent purpose.");
            }

            var custodianTenantId = custodian.Value!.CustodianTenantId;
            var reference = string.IsNullOrWhiteSpace(request.Reference) ? null : request.Reference.Trim();
            await using var transaction = await ConsentRegistry.BeginForTenantAsync(connection, custodianTenantId, cancellationToken);
            var before = await connection.QuerySingleAsync<ModelRow>(new CommandDefinition(
                "SELECT model AS Model, reference AS Reference FROM gov.current_model(@source, @purpose)",
                new { source = request.Source, purpose = request.Purpose },
                transaction,
                AppSqlConnections.CommandTimeoutSeconds,
                cancellationToken: cancellationToken));
            var modelId = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                """
                INSERT INTO gov.consent_model (source, purpose, model, reference, set_by)
                VALUES (@source, @purpose, @model, @reference, @setBy)
                RETURNING model_id
                """,
                new { source = request.Source, purpose = request.Purpose, model = request.Model, reference, setBy = user.Email },
                transaction,
                AppSqlConnections.CommandTimeoutSeconds,
                cancellationToken: cancellationToken));
            await audit.RecordChangeAsync(
                connection,
                transaction,
                new AuditRecord(
                    AuditEventTypes.ConsentChanged,
                    $"{request.Source} {request.Purpose} consent model",
                    AuditOutcomes.Success,
                    new Dictionary<string, object?>
                    {
                        ["change"] = "model",
                        ["model_id"] = modelId,
                        ["purpose"] = request.Purpose,
                        ["before"] = ConsentModels.Describe(before.Model, before.Reference),
                        ["after"] = ConsentModels.Describe(request.Model, reference),
                    }),
                custodianTenantId,
                cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(modelId, before.Model, request.Model);
        }
    }

    private sealed record ModelRow(string Model, string? Reference);
}
