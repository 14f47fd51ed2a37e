using System.Globalization;
using MediatR;
using Microsoft.AspNetCore.Components.Authorization;
using RwePortal.Application.Audit;
using RwePortal.Application.Features.Audit;
using RwePortal.Application.Security;

namespace RwePortal.Web.Features.Audit;

/// <summary>
/// The audit trail's CSV export, served as a file (not a data: URL) to a user who may view the audit trail, through the
/// same slice as the page: the trail the user may see (their tenant's, or every tenant's for the platform Admin), the
/// page's filter from the query string, the export itself recorded as an event.
/// </summary>
public static class AuditExportEndpoints
{
    public const string Path = "/admin/audit/export.csv";

    public static IEndpointRouteBuilder MapAuditExport(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(Path, ExportAsync).RequireAuthorization(nameof(Permission.ViewAudit));
        return endpoints;
    }

    /// <summary>The export's address for a filter (what the page links to).</summary>
    public static string For(AuditEventFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var query = new Dictionary<string, string?>
        {
            ["from"] = filter.From?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["to"] = filter.To?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["user"] = filter.User,
            ["eventType"] = filter.EventType,
            ["target"] = filter.Target,
        };
        return Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(Path, query.Where(p => !string.IsNullOrEmpty(p.Value)));
    }

    private static async Task<IResult> ExportAsync(
        DateOnly? from, DateOnly? to, string? user, string? eventType, string? target, HttpContext http, IMediator mediator,
        AuthenticationStateProvider authentication, CancellationToken cancellationToken)
    {
        // Outside a circuit the request's principal is the user the mediator asks for.
        if (authentication is IHostEnvironmentAuthenticationStateProvider host)
        {
            host.SetAuthenticationState(Task.FromResult(new AuthenticationState(http.User)));
        }

        var file = await mediator.Send(new ExportAuditEvents.Query(new AuditEventFilter(from, to, user, eventType, target)), cancellationToken);
        if (!file.Succeeded)
        {
            return Results.Problem(file.Error!.Message, statusCode: file.Error.Code == "Auth.Forbidden" ? 403 : 400);
        }

        http.Response.Headers["X-Exported-Rows"] = file.Value!.Rows.ToString(CultureInfo.InvariantCulture);
        http.Response.Headers["X-Export-Truncated"] = file.Value.Truncated ? "true" : "false";
        return Results.File(file.Value.Content, "text/csv; charset=utf-8", file.Value.FileName);
    }
}
