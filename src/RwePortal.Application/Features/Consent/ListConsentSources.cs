using FluentValidation;
using MediatR;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Consent;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Consent;

/// <summary>
/// The data sources whose consent the current user may see (with their custodian and whether the user acts for it)
/// and the configured purposes, for the consent page's pickers.
/// </summary>
public static class ListConsentSources
{
    [RequiresPermission(Permission.ManageConsent)]
    public sealed record Query : IRequest<Result<Response>>;

    public sealed record Response(IReadOnlyList<ConsentSource> Sources, IReadOnlyList<ConsentPurpose> Purposes);

    public sealed class Validator : AbstractValidator<Query>;

    internal sealed class Handler(AppSqlConnections connections, ConsentSourceAccess access) : IRequestHandler<Query, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            var sources = await access.ListAsync(cancellationToken);
            await using var connection = await connections.OpenAsync(cancellationToken);
            var purposes = await ConsentRegistry.PurposesAsync(connection, cancellationToken);
            return new Response(sources, purposes);
        }
    }
}
