using FluentValidation;
using MediatR;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Privacy;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Tenancy;

/// <summary>
/// The current tenant's small-cell threshold: every member may read it, since it says what "&lt;11" on their pages
/// means. <see cref="Response.IsDefault"/> when the tenant never set one.
/// </summary>
public static class GetSmallCellThreshold
{
    [RequiresPermission(Permission.ViewHome)]
    public sealed record Query : IRequest<Result<Response>>;

    public sealed record Response(int Threshold, bool IsDefault, int Minimum, int Maximum, int NoiseRange, DateTimeOffset? UpdatedAt);

    public sealed class Validator : AbstractValidator<Query>;

    internal sealed class Handler(ICurrentUser currentUser, TenantDbContextFactory contexts) : IRequestHandler<Query, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            if ((await currentUser.GetAsync(cancellationToken)).TenantId is null)
            {
                return Error.NotFound("Tenant");
            }

            await using var db = await contexts.CreateAsync(cancellationToken);
            var settings = await SmallCellThresholds.FindAsync(db, cancellationToken);
            return new Response(
                settings?.SmallCellThreshold ?? SmallCellPolicy.DefaultThreshold,
                settings is null,
                SmallCellPolicy.MinimumThreshold,
                SmallCellThresholds.Maximum,
                SmallCellPolicy.DefaultNoiseRange,
                settings?.UpdatedAt);
        }
    }
}
