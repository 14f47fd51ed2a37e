using MediatR;
using Microsoft.AspNetCore.Components.Authorization;
using RwePortal.Application.Audit;
using RwePortal.Application.Features.Protocols;
using RwePortal.Application.Security;

namespace RwePortal.Web.Features.Protocols;

/// <summary>
/// Files of a protocol version served by the portal to a signed-in user of the protocol's tenant who may view
/// protocols: the PDF of the print view and the JSON export. Another tenant's protocol answers 404, as the slices do.
/// Both are on the audit trail as exports (the JSON one by its slice, the PDF here).
/// </summary>
public static class ProtocolEndpoints
{
    public static IEndpointRouteBuilder MapProtocolFiles(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/protocols/{id:guid}/v/{version:int}/protocol.pdf", PdfAsync).RequireAuthorization(nameof(Permission.ViewProtocols));
        endpoints.MapGet("/protocols/{id:guid}/v/{version:int}/export.json", JsonAsync).RequireAuthorization(nameof(Permission.ViewProtocols));
        return endpoints;
    }

    private static void Bind(HttpContext http, AuthenticationStateProvider authentication)
    {
        // Outside a circuit the request's principal is the user the mediator asks for.
        if (authentication is IHostEnvironmentAuthenticationStateProvider host)
        {
            host.SetAuthenticationState(Task.FromResult(new AuthenticationState(http.User)));
        }
    }

    private static async Task<IResult> PdfAsync(
        Guid id, int version, HttpContext http, IMediator mediator, AuthenticationStateProvider authentication, ProtocolPdfRenderer renderer,
        IAuditTrail audit, CancellationToken cancellationToken)
    {
        Bind(http, authentication);
        var protocol = await mediator.Send(new GetProtocol.Query(id, version), cancellationToken);
        if (!protocol.Succeeded)
        {
            return Results.NotFound();
        }

        var pdf = await renderer.RenderAsync(protocol.Value!, cancellationToken);
        var fileName = $"protocol-{id:N}-v{version}.pdf";
        var shown = protocol.Value!.Versions.Single(v => v.Version == version);
        await audit.RecordAsync(
            new AuditRecord(AuditEventTypes.Export, $"ExportProtocolPdf: protocol '{protocol.Value.Title}' ({id}) v{version}", AuditOutcomes.Success, new Dictionary<string, object?>
            {
                ["file"] = fileName,
                ["state"] = shown.State.ToString(),
                ["content_hash"] = shown.ContentHash,
            }),
            cancellationToken);
        return Results.File(pdf, "application/pdf", fileName);
    }

    private static async Task<IResult> JsonAsync(
        Guid id, int version, HttpContext http, IMediator mediator, AuthenticationStateProvider authentication, CancellationToken cancellationToken)
    {
        Bind(http, authentication);
        var export = await mediator.Send(new ExportProtocolVersion.Query(id, version), cancellationToken);
        return export.Succeeded
            ? Results.File(System.Text.Encoding.UTF8.GetBytes(export.Value!.Json), "application/json", export.Value.FileName)
            : Results.NotFound();
    }
}
