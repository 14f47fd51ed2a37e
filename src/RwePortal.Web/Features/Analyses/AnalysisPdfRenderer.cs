using RwePortal.Application.Features.Analyses;
using RwePortal.Web.Components.Printing;

namespace RwePortal.Web.Features.Analyses;

/// <summary>Renders a succeeded run's report to PDF: the same component as the print view, printed by <see cref="PdfPrinter"/>.</summary>
public sealed class AnalysisPdfRenderer(PdfPrinter printer)
{
    public async Task<byte[]> RenderAsync(GetAnalysisRun.Response run, CancellationToken cancellationToken) =>
        await printer.PrintAsync(await HtmlAsync(run), cancellationToken);

    /// <summary>The print document as a complete HTML page.</summary>
    public Task<string> HtmlAsync(GetAnalysisRun.Response run) =>
        printer.HtmlAsync<AnalysisPrintDocument>(
            new Dictionary<string, object?> { [nameof(AnalysisPrintDocument.Run)] = run },
            $"{run.ProtocolTitle} v{run.ProtocolVersion} · analysis {run.RunId:N}");
}
