using RwePortal.Application.Features.Protocols;
using RwePortal.Web.Components.Printing;

namespace RwePortal.Web.Features.Protocols;

/// <summary>Renders a protocol's print document to PDF: the same component as the print view, printed by <see cref="PdfPrinter"/>.</summary>
public sealed class ProtocolPdfRenderer(PdfPrinter printer)
{
    public async Task<byte[]> RenderAsync(GetProtocol.Response protocol, CancellationToken cancellationToken) =>
        await printer.PrintAsync(await HtmlAsync(protocol), cancellationToken);

    /// <summary>The print document as a complete HTML page.</summary>
    public Task<string> HtmlAsync(GetProtocol.Response protocol) =>
        printer.HtmlAsync<ProtocolPrintDocument>(
            new Dictionary<string, object?> { [nameof(ProtocolPrintDocument.Protocol)] = protocol },
            $"{protocol.Title} v{protocol.ShownVersion}");
}
