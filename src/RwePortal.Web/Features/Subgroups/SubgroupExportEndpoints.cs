using Microsoft.AspNetCore.Components.Authorization;
using MediatR;
using RwePortal.Application.Features.Subgroups;
using RwePortal.Application.Security;

namespace RwePortal.Web.Features.Subgroups;

/// <summary>
/// The CSV export of a saved subgroup's Table 1, or of its comparison with another: served by the portal as a file
/// (not a data: URL), to a signed-in user who may view subgroups, through the same slices as the pages (grant, purpose,
/// small-cell policy, audit).
/// </summary>
public static class SubgroupExportEndpoints
{
    public static IEndpointRouteBuilder MapSubgroupExports(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/subgroups/{id:guid}/export.csv", ExportAsync).RequireAuthorization(nameof(Permission.ViewSubgroups));
        return endpoints;
    }

    private static async Task<IResult> ExportAsync(
        Guid id, string source, string purpose, Guid? compare, HttpContext http, IMediator mediator, AuthenticationStateProvider authentication,
        CancellationToken cancellationToken)
    {
        // Outside a circuit the request's principal is the user the mediator asks for.
        if (authentication is IHostEnvironmentAuthenticationStateProvider host)
        {
            host.SetAuthenticationState(Task.FromResult(new AuthenticationState(http.User)));
        }

        var subgroup = await mediator.Send(new GetSubgroup.Query(id), cancellationToken);
        if (!subgroup.Succeeded)
        {
            return Results.NotFound();
        }

        string? other = null;
        if (compare is { } compareId)
        {
            var b = await mediator.Send(new GetSubgroup.Query(compareId), cancellationToken);
            if (!b.Succeeded)
            {
                return Results.NotFound();
            }

            other = b.Value!.Definition;
        }

        var file = await mediator.Send(new ExportSubgroupCharacterization.Query(source, subgroup.Value!.Definition, other, purpose), cancellationToken);
        return file.Succeeded
            ? Results.File(file.Value!.Content, file.Value.ContentType, file.Value.FileName)
            : Results.Problem(file.Error!.Message, statusCode: file.Error.Code.EndsWith(".NotFound", StringComparison.Ordinal) ? 404 : 400);
    }
}
