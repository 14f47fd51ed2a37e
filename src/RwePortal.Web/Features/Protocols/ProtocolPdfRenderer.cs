using System.Diagnostics;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using RwePortal.Application.Features.Protocols;

namespace RwePortal.Web.Features.Protocols;

/// <summary>
/// Renders a protocol's print document to PDF: the same component as the print view, rendered to static HTML on the
/// server and printed by headless Chromium from a private temporary folder. Chromium gets the file only: no cookie, no
/// network (every style is inline), its own throw-away profile.
/// </summary>
public sealed class ProtocolPdfRenderer(IServiceProvider services, ILoggerFactory loggers, IConfiguration configuration)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    public async Task<byte[]> RenderAsync(GetProtocol.Response protocol, CancellationToken cancellationToken)
    {
        var html = await HtmlAsync(protocol);
        var folder = Directory.CreateTempSubdirectory("rwe-protocol-pdf-");
        try
        {
            var input = Path.Combine(folder.FullName, "protocol.html");
            var output = Path.Combine(folder.FullName, "protocol.pdf");
            await File.WriteAllTextAsync(input, html, cancellationToken);
            await RunChromiumAsync(folder.FullName, input, output, cancellationToken);
            return await File.ReadAllBytesAsync(output, cancellationToken);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>The print document as a complete HTML page.</summary>
    public async Task<string> HtmlAsync(GetProtocol.Response protocol)
    {
        await using var renderer = new HtmlRenderer(services, loggers);
        var body = await renderer.Dispatcher.InvokeAsync(async () =>
        {
            var parameters = ParameterView.FromDictionary(new Dictionary<string, object?> { [nameof(ProtocolPrintDocument.Protocol)] = protocol });
            var output = await renderer.RenderComponentAsync<ProtocolPrintDocument>(parameters);
            return output.ToHtmlString();
        });
        var title = System.Net.WebUtility.HtmlEncode($"{protocol.Title} v{protocol.ShownVersion}");
        return $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8" /><title>{title}</title>
            <style>@page {"{"} size: A4; margin: 16mm 14mm; {"}"} body {"{"} margin: 0; {"}"} ol, ul {"{"} margin: 2px 0 6px 0; {"}"}</style>
            </head><body>{body}</body></html>
            """;
    }

    private async Task RunChromiumAsync(string folder, string input, string output, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(configuration["Pdf:Chromium"] ?? "/usr/bin/chromium")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--no-pdf-header-footer",
                     $"--user-data-dir={Path.Combine(folder, "profile")}", $"--print-to-pdf={output}", new Uri(input).AbsoluteUri,
                 })
        {
            start.ArgumentList.Add(argument);
        }

        // Chromium refuses to run as root with its sandbox (containers, CI); a normal service account keeps it.
        if (Environment.UserName == "root")
        {
            start.ArgumentList.Insert(0, "--no-sandbox");
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Chromium did not start.");
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        _ = process.StandardOutput.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        if (process.ExitCode != 0 || !File.Exists(output))
        {
            throw new InvalidOperationException($"Chromium could not print the protocol (exit {process.ExitCode}): {await stderr}");
        }
    }
}
