using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.DataSources;

/// <summary>Takes a data source away from a tenant.</summary>
public static class RevokeDataSourceGrant
{
    [RequiresPermission(Permission.ManageDataSources)]
    public sealed record Command(Guid DataSourceId, Guid TenantId) : IRequest<Result<Response>>;

    public sealed record Response(Guid DataSourceId, Guid TenantId);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.DataSourceId).NotEmpty();
            RuleFor(c => c.TenantId).NotEmpty();
        }
    }

    internal sealed class Handler(TenantDbContextFactory contexts) : IRequestHandler<Command, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Command request, CancellationToken cancellationToken)
        {
            await using var db = await contexts.CreateCrossTenantAsync(cancellationToken);
            var deleted = await db.DataSourceGrants
                .Where(g => g.TenantId == request.TenantId && g.DataSourceId == request.DataSourceId)
                .ExecuteDeleteAsync(cancellationToken);
            return deleted == 0 ? Error.NotFound("Grant") : new Response(request.DataSourceId, request.TenantId);
        }
    }
}
