using Dapper;
using FluentValidation;
using MediatR;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.DataSources;

/// <summary>
/// Names the custodian of a data source that has none yet: the tenant whose administrators will record, import and
/// edit its consent. The portal assigns a custodian once (app.assign_data_source_custodian); changing an existing one
/// moves the consent history to another organisation and is the operator's act (`rwe source set-custodian`,
/// decision 0641). Audited under the new custodian's tenant id, in the same transaction.
/// </summary>
public static class SetDataSourceCustodian
{
    [RequiresPermission(Permission.ManageDataSources)]
    public sealed record Command(string Source, Guid TenantId) : IRequest<Result<Response>>, IAuditTarget
    {
        public string AuditTarget => $"{Source} custodian {TenantId}";
    }

    public sealed record Response(string Source, Guid TenantId);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.Source).NotEmpty().MaximumLength(64);
            RuleFor(c => c.TenantId).NotEmpty();
        }
    }

    internal sealed class Handler(AppSqlConnections connections, ICurrentUser currentUser, IAuditTrail audit) : IRequestHandler<Command, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Command request, CancellationToken cancellationToken)
        {
            var user = await currentUser.GetAsync(cancellationToken);
            await using var connection = await connections.OpenAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var current = await connection.QuerySingleOrDefaultAsync<SourceRow>(new CommandDefinition(
                "SELECT custodian_tenant_id AS CustodianTenantId FROM app.data_sources WHERE name = @source",
                new { source = request.Source },
                transaction,
                AppSqlConnections.CommandTimeoutSeconds,
                cancellationToken: cancellationToken));
            if (current is null)
            {
                return Error.NotFound("DataSource");
            }

            if (current.CustodianTenantId is not null)
            {
                return new Error(
                    "DataSource.CustodianSet",
                    $"'{request.Source}' already has a custodian; changing it moves the consent history and is done by the operator (rwe source set-custodian).");
            }

            var assigned = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT app.assign_data_source_custodian(@source, @tenantId)",
                new { source = request.Source, tenantId = request.TenantId },
                transaction,
                AppSqlConnections.CommandTimeoutSeconds,
                cancellationToken: cancellationToken));
            if (!assigned)
            {
                return Error.NotFound("Tenant");
            }

            await audit.RecordChangeAsync(
                connection,
                transaction,
                new AuditRecord(
                    AuditEventTypes.ConsentChanged,
                    $"{request.Source} custodian",
                    AuditOutcomes.Success,
                    new Dictionary<string, object?>
                    {
                        ["change"] = "custodian",
                        ["source"] = request.Source,
                        ["before"] = null,
                        ["after"] = request.TenantId,
                    }),
                request.TenantId,
                cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(request.Source, request.TenantId);
        }
    }

    private sealed record SourceRow(Guid? CustodianTenantId);
}
