using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.DataSources;

/// <summary>Each registered data source's custodian (the tenant that holds its consent), and the tenants that may become one.</summary>
public static class ListDataSourceCustodians
{
    [RequiresPermission(Permission.ManageDataSources)]
    public sealed record Query : IRequest<Result<Response>>;

    public sealed record Custodian(string Source, Guid? TenantId, string? TenantName);

    public sealed record TenantOption(Guid Id, string Name);

    public sealed record Response(IReadOnlyList<Custodian> Sources, IReadOnlyList<TenantOption> Tenants);

    public sealed class Validator : AbstractValidator<Query>;

    internal sealed class Handler(TenantDbContextFactory contexts) : IRequestHandler<Query, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            await using var db = await contexts.CreateAsync(cancellationToken);
            var sources = await db.DataSources.AsNoTracking()
                .OrderBy(s => s.Name)
                .Select(s => new Custodian(
                    s.Name,
                    s.CustodianTenantId,
                    db.Tenants.Where(t => t.Id == s.CustodianTenantId).Select(t => t.Name).FirstOrDefault()))
                .ToListAsync(cancellationToken);
            var tenants = await db.Tenants.AsNoTracking()
                .Where(t => t.IsActive)
                .OrderBy(t => t.Name)
                .Select(t => new TenantOption(t.Id, t.Name))
                .ToListAsync(cancellationToken);
            return new Response(sources, tenants);
        }
    }
}
