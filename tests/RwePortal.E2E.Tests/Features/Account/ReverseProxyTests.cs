using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using RwePortal.Application.Data;
using RwePortal.E2E.Tests.Infrastructure;

namespace RwePortal.E2E.Tests.Features.Account;

/// <summary>
/// A second portal process over the same database, configured as behind a TLS-terminating reverse proxy on the
/// loopback address (ReverseProxy:Enabled): HTTPS as the proxy reports it gets HSTS and Secure cookies, plain HTTP
/// neither; and a session signed in on one process is signed in on the other (the key ring is in the database).
/// </summary>
[Collection(PortalCollection.Name)]
public sealed partial class ReverseProxyTests(PortalFixture portal) : IAsyncLifetime
{
    private const string PublicHost = "rwe.example.test";
    private readonly StringBuilder _log = new();
    private Process? _server;
    private string _baseUrl = "";

    [GeneratedRegex("""<input type="hidden" name="(?<name>[^"]+)" value="(?<value>[^"]*)" """, RegexOptions.CultureInvariant)]
    private static partial Regex HiddenInput();

    public async Task InitializeAsync()
    {
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            _baseUrl = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        }

        var dll = Directory.GetFiles(Path.Combine(PortalFixture.RepositoryRoot, "src", "RwePortal.Web", "bin"), "RwePortal.Web.dll", SearchOption.AllDirectories)
            .Where(path => path.Contains(Path.Combine(typeof(ReverseProxyTests).Assembly.Location.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release", "net10.0"), StringComparison.Ordinal))
            .First();
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["ASPNETCORE_URLS"] = _baseUrl;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ConnectionStrings__App"] = portal.Database.AppConnectionString;
        start.Environment["ConnectionStrings__Warehouse"] = portal.Database.ReaderConnectionString;
        start.Environment["ReverseProxy__Enabled"] = "true";
        _server = Process.Start(start) ?? throw new InvalidOperationException("Could not start the second portal.");
        _server.OutputDataReceived += (_, e) => { lock (_log) { _log.AppendLine(e.Data); } };
        _server.ErrorDataReceived += (_, e) => { lock (_log) { _log.AppendLine(e.Data); } };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var deadline = DateTime.UtcNow.AddSeconds(60); DateTime.UtcNow < deadline; await Task.Delay(250))
        {
            try
            {
                if ((await http.GetAsync($"{_baseUrl}/health")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not answering yet.
            }
        }

        throw new TimeoutException($"The second portal did not answer:\n{_log}");
    }

    public async Task DisposeAsync()
    {
        if (_server is { HasExited: false })
        {
            _server.Kill(entireProcessTree: true);
            await _server.WaitForExitAsync();
        }

        _server?.Dispose();
    }

    [Fact]
    public async Task Https_reported_by_the_proxy_gets_hsts_and_secure_cookies_and_the_sign_in_cookie_is_secure()
    {
        using var http = Client();

        var login = await SendAsync(http, HttpMethod.Get, "/Account/Login", https: true);
        var signIn = await SignInAsync(http, login, https: true);

        Assert.True(login.Headers.TryGetValues("Strict-Transport-Security", out var hsts), _log.ToString());
        Assert.Contains("max-age=31536000", hsts.Single(), StringComparison.Ordinal);
        Assert.All(SetCookies(login), cookie => Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase));
        var auth = Assert.Single(SetCookies(signIn), cookie => cookie.StartsWith("rwe.auth=", StringComparison.Ordinal));
        Assert.Contains("secure", auth, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", auth, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", auth, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Plain_http_gets_no_hsts_and_cookies_that_work_over_http()
    {
        using var http = Client();

        var login = await SendAsync(http, HttpMethod.Get, "/Account/Login", https: false);
        var signIn = await SignInAsync(http, login, https: false);

        Assert.False(login.Headers.Contains("Strict-Transport-Security"));
        var auth = Assert.Single(SetCookies(signIn), cookie => cookie.StartsWith("rwe.auth=", StringComparison.Ordinal));
        Assert.DoesNotContain("secure", auth, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_session_signed_in_on_one_portal_process_is_still_signed_in_on_another()
    {
        using var http = Client();
        var login = await SendAsync(http, HttpMethod.Get, "/Account/Login", https: false, baseUrl: portal.BaseUrl);
        var signIn = await SignInAsync(http, login, https: false, baseUrl: portal.BaseUrl);
        var cookie = SetCookies(signIn).Single(c => c.StartsWith("rwe.auth=", StringComparison.Ordinal)).Split(';')[0];

        using var restarted = new HttpRequestMessage(HttpMethod.Get, $"{_baseUrl}/");
        restarted.Headers.Add("Cookie", cookie);
        var home = await http.SendAsync(restarted);

        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
        Assert.Contains("home-title", await home.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static HttpClient Client() =>
        new(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };

    private async Task<HttpResponseMessage> SendAsync(
        HttpClient http, HttpMethod method, string path, bool https, string? baseUrl = null, HttpContent? content = null, string? cookies = null)
    {
        using var request = new HttpRequestMessage(method, $"{baseUrl ?? _baseUrl}{path}") { Content = content };
        if (baseUrl is null)
        {
            // What nginx in front of the portal sends (docs/deployment.md).
            request.Headers.Host = PublicHost;
            request.Headers.Add("X-Forwarded-Proto", https ? "https" : "http");
            request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        }

        if (cookies is not null)
        {
            request.Headers.Add("Cookie", cookies);
        }

        return await http.SendAsync(request);
    }

    /// <summary>Posts the sign-in form of <paramref name="login"/> as a browser would (its hidden fields and antiforgery cookie).</summary>
    private async Task<HttpResponseMessage> SignInAsync(HttpClient http, HttpResponseMessage login, bool https, string? baseUrl = null)
    {
        var html = await login.Content.ReadAsStringAsync();
        var fields = HiddenInput().Matches(html).Select(m => KeyValuePair.Create(m.Groups["name"].Value, WebUtility.HtmlDecode(m.Groups["value"].Value))).ToList();
        fields.Add(KeyValuePair.Create("Input.Email", "analyst@acme.test"));
        fields.Add(KeyValuePair.Create("Input.Password", DemoSeeder.Password));
        var cookies = string.Join("; ", SetCookies(login).Select(c => c.Split(';')[0]));
        var response = await SendAsync(http, HttpMethod.Post, "/Account/Login", https, baseUrl, new FormUrlEncodedContent(fields), cookies);
        Assert.True(response.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther, $"{response.StatusCode}\n{_log}");
        return response;
    }

    private static List<string> SetCookies(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var values) ? [.. values] : [];
}
