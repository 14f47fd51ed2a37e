using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using RwePortal.E2E.Tests.Infrastructure;

namespace RwePortal.E2E.Tests.Features.Account;

/// <summary>
/// Another portal process over the fixture's database, with settings of its own: a restarted portal, or one
/// configured for a reverse proxy. Stopped (and waited for) when disposed.
/// </summary>
public sealed class SecondPortal : IAsyncDisposable
{
#if DEBUG
    private const string BuildConfiguration = "Debug";
#else
    private const string BuildConfiguration = "Release";
#endif

    private readonly StringBuilder _log = new();
    private readonly Process _server;

    private SecondPortal(Process server, string baseUrl)
    {
        _server = server;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static async Task<SecondPortal> StartAsync(PortalFixture portal, IReadOnlyDictionary<string, string> settings)
    {
        string baseUrl;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            baseUrl = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        }

        var web = Path.Combine(PortalFixture.RepositoryRoot, "src", "RwePortal.Web");
        var start = PortalFixture.PortalStartInfo(Path.Combine(web, "bin", BuildConfiguration, "net10.0", "RwePortal.Web.dll"), baseUrl, portal.Database);
        foreach (var (name, value) in settings)
        {
            start.Environment[name] = value;
        }

        var second = new SecondPortal(Process.Start(start) ?? throw new InvalidOperationException("Could not start a second portal."), baseUrl);
        second._server.OutputDataReceived += (_, e) => second.Append(e.Data);
        second._server.ErrorDataReceived += (_, e) => second.Append(e.Data);
        second._server.BeginOutputReadLine();
        second._server.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var deadline = DateTime.UtcNow.AddSeconds(60); DateTime.UtcNow < deadline; await Task.Delay(250))
        {
            try
            {
                if ((await http.GetAsync($"{baseUrl}/health")).IsSuccessStatusCode)
                {
                    return second;
                }
            }
            catch (HttpRequestException)
            {
                // Not answering yet.
            }
        }

        await second.DisposeAsync();
        throw new TimeoutException($"The second portal did not answer within 60 s:\n{second.Log}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_server.HasExited)
        {
            _server.Kill(entireProcessTree: true);
            await _server.WaitForExitAsync();
        }

        _server.Dispose();
    }

    private void Append(string? line)
    {
        lock (_log)
        {
            _log.AppendLine(line);
        }
    }
}
