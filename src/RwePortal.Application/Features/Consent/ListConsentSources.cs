using FluentValidation;
using MediatR;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Consent;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Consent;

/// <summary>The data sources and the configured purposes, for the consent page's pickers.</summary>
public static class ListConsentSources
{
    [RequiresPermission(Permission.ManageConsent)]
    public sealed record Query : IRequest<Result<Response>>;

    public sealed record Response(IReadOnlyList<string> Sources, IReadOnlyList<ConsentPurpose> Purposes);

    public sealed class Validator : AbstractValidator<Query>;

    internal sealed class Handler(AppSqlConnections connections, ConsentSourceAccess access) : IRequestHandler<Query, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            await using var connection = await connections.OpenAsync(cancellationToken);
            var sources = await access.ListAsync(cancellationToken);
            var purposes = await ConsentRegistry.PurposesAsync(connection, cancellationToken);
            return new Response(sources, purposes);
        }
    }
}
