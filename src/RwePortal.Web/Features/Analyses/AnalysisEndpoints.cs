using MediatR;
using Microsoft.AspNetCore.Components.Authorization;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Features.Analyses;
using RwePortal.Application.Security;

namespace RwePortal.Web.Features.Analyses;

/// <summary>
/// Files of a succeeded run served to a signed-in user of the run's tenant who may view analyses: the aggregates as CSV
/// and JSON (through <see cref="ExportAnalysisRun"/>, which audits them) and the printed report as PDF (audited here).
/// Another tenant's run answers 404, as the slices do; a run without a result yet answers 409.
/// </summary>
public static class AnalysisEndpoints
{
    public static IEndpointRouteBuilder MapAnalysisFiles(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/analyses/{id:guid}/export.csv", (Guid id, HttpContext http, IMediator mediator, AuthenticationStateProvider authentication, CancellationToken cancellationToken) =>
            ExportAsync(id, "csv", http, mediator, authentication, cancellationToken)).RequireAuthorization(nameof(Permission.ViewAnalyses));
        endpoints.MapGet("/analyses/{id:guid}/export.json", (Guid id, HttpContext http, IMediator mediator, AuthenticationStateProvider authentication, CancellationToken cancellationToken) =>
            ExportAsync(id, "json", http, mediator, authentication, cancellationToken)).RequireAuthorization(nameof(Permission.ViewAnalyses));
        endpoints.MapGet("/analyses/{id:guid}/report.pdf", PdfAsync).RequireAuthorization(nameof(Permission.ViewAnalyses));
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

    private static IResult Refusal(Error error) => error.Code switch
    {
        "Run.NoResult" => Results.Conflict(error.Message),
        "Validation.Failed" => Results.BadRequest(error.Message),
        _ => Results.NotFound(),
    };

    private static async Task<IResult> ExportAsync(
        Guid id, string format, HttpContext http, IMediator mediator, AuthenticationStateProvider authentication, CancellationToken cancellationToken)
    {
        Bind(http, authentication);
        var export = await mediator.Send(new ExportAnalysisRun.Query(id, format), cancellationToken);
        return export.Succeeded
            ? Results.File(export.Value!.Content, export.Value.ContentType, export.Value.FileName)
            : Refusal(export.Error!);
    }

    private static async Task<IResult> PdfAsync(
        Guid id, HttpContext http, IMediator mediator, AuthenticationStateProvider authentication, AnalysisPdfRenderer renderer,
        IAuditTrail audit, CancellationToken cancellationToken)
    {
        Bind(http, authentication);
        var run = await mediator.Send(new GetAnalysisRun.Query(id), cancellationToken);
        if (!run.Succeeded)
        {
            return Results.NotFound();
        }

        if (run.Value!.Result is null)
        {
            return Results.Conflict($"The run is {run.Value.Status}: only a succeeded run has a report.");
        }

        var pdf = await renderer.RenderAsync(run.Value, cancellationToken);
        var fileName = $"analysis-{id:N}.pdf";
        await audit.RecordAsync(
            new AuditRecord(AuditEventTypes.Export, $"ExportAnalysisReport: run {id} of '{run.Value.ProtocolTitle}' v{run.Value.ProtocolVersion}", AuditOutcomes.Success,
                new Dictionary<string, object?>
                {
                    ["file"] = fileName,
                    ["source"] = run.Value.Source,
                    ["protocol_hash"] = run.Value.ProtocolHash,
                }),
            cancellationToken);
        return Results.File(pdf, "application/pdf", fileName);
    }
}
