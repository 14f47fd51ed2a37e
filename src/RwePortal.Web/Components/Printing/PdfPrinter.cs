using System.Diagnostics;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;

namespace RwePortal.Web.Components.Printing;

/// <summary>
/// Prints a print document (a component that uses only plain HTML, inline SVG and inline styles) to PDF: the component is
/// rendered to static HTML on the server and printed by headless Chromium from a private temporary folder. Chromium gets
/// the file only: no cookie, no network, its own throw-away profile. Protocols and analysis reports share it.
/// </summary>
public sealed class PdfPrinter(IServiceProvider services, ILoggerFactory loggers, IConfiguration configuration)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary>The component, rendered with the parameters, as a complete A4 HTML page titled <paramref name="title"/>.</summary>
    public async Task<string> HtmlAsync<TComponent>(IDictionary<string, object?> parameters, string title)
        where TComponent : IComponent
    {
        await using var renderer = new HtmlRenderer(services, loggers);
        var body = await renderer.Dispatcher.InvokeAsync(async () =>
        {
            var output = await renderer.RenderComponentAsync<TComponent>(ParameterView.FromDictionary(parameters));
            return output.ToHtmlString();
        });
        var encoded = System.Net.WebUtility.HtmlEncode(title);
        return $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8" /><title>{encoded}</title>
            <style>@page {"{"} size: A4; margin: 16mm 14mm; {"}"} body {"{"} margin: 0; {"}"} ol, ul {"{"} margin: 2px 0 6px 0; {"}"}</style>
            </head><body>{body}</body></html>
            """;
    }

    /// <summary>A complete HTML page printed to PDF.</summary>
    public async Task<byte[]> PrintAsync(string html, CancellationToken cancellationToken)
    {
        var folder = Directory.CreateTempSubdirectory("rwe-pdf-");
        try
        {
            var input = Path.Combine(folder.FullName, "document.html");
            var output = Path.Combine(folder.FullName, "document.pdf");
            await File.WriteAllTextAsync(input, html, cancellationToken);
            await RunChromiumAsync(folder.FullName, input, output, cancellationToken);
            return await File.ReadAllBytesAsync(output, cancellationToken);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
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
            throw new InvalidOperationException($"Chromium could not print the document (exit {process.ExitCode}): {await stderr}");
        }
    }
}
