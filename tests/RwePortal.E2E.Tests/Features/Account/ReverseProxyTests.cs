using System.Net;
using System.Text.RegularExpressions;
using RwePortal.Application.Data;
using RwePortal.E2E.Tests.Infrastructure;

namespace RwePortal.E2E.Tests.Features.Account;

/// <summary>
/// A second portal process over the same database, configured as behind a TLS-terminating reverse proxy on the
/// loopback address (ReverseProxy:Enabled): HTTPS as the proxy reports it gets HSTS and Secure cookies, plain HTTP
/// neither, and a proxy that is not named is not believed; a session signed in on one process is signed in on the
/// other (the key ring is in the database).
/// </summary>
[Collection(PortalCollection.Name)]
public sealed partial class ReverseProxyTests(PortalFixture portal) : IAsyncLifetime
{
    private const string PublicHost = "rwe.example.test";
    private SecondPortal _proxied = default!;

    [GeneratedRegex("""<input type="hidden" name="(?<name>[^"]+)" value="(?<value>[^"]*)" """, RegexOptions.CultureInvariant)]
    private static partial Regex HiddenInput();

    public async Task InitializeAsync() =>
        _proxied = await SecondPortal.StartAsync(portal, new Dictionary<string, string> { ["ReverseProxy__Enabled"] = "true" });

    public async Task DisposeAsync() => await _proxied.DisposeAsync();

    [Fact]
    public async Task Https_reported_by_the_proxy_gets_hsts_and_secure_cookies_and_the_sign_in_cookie_is_secure()
    {
        using var http = Client();

        var login = await SendAsync(http, HttpMethod.Get, "/Account/Login", https: true);
        var signIn = await SignInAsync(http, login, https: true);

        Assert.True(login.Headers.TryGetValues("Strict-Transport-Security", out var hsts), _proxied.Log);
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
    public async Task A_proxy_that_is_not_named_is_not_believed_when_it_says_https()
    {
        await using var elsewhere = await SecondPortal.StartAsync(portal, new Dictionary<string, string>
        {
            ["ReverseProxy__Enabled"] = "true",
            ["ReverseProxy__KnownProxies__0"] = "192.0.2.10",
        });
        using var http = Client();

        var login = await SendAsync(http, HttpMethod.Get, "/Account/Login", https: true, portalUrl: elsewhere.BaseUrl);
        var signIn = await SignInAsync(http, login, https: true, portalUrl: elsewhere.BaseUrl);

        Assert.False(login.Headers.Contains("Strict-Transport-Security"), elsewhere.Log);
        var auth = Assert.Single(SetCookies(signIn), cookie => cookie.StartsWith("rwe.auth=", StringComparison.Ordinal));
        Assert.DoesNotContain("secure", auth, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_session_signed_in_on_one_portal_process_is_still_signed_in_on_another()
    {
        using var http = Client();
        var login = await SendAsync(http, HttpMethod.Get, "/Account/Login", https: false, portalUrl: portal.BaseUrl, viaProxy: false);
        var signIn = await SignInAsync(http, login, https: false, portalUrl: portal.BaseUrl, viaProxy: false);
        var cookie = SetCookies(signIn).Single(c => c.StartsWith("rwe.auth=", StringComparison.Ordinal)).Split(';')[0];

        using var restarted = new HttpRequestMessage(HttpMethod.Get, $"{_proxied.BaseUrl}/");
        restarted.Headers.Add("Cookie", cookie);
        var home = await http.SendAsync(restarted);

        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
        Assert.Contains("home-title", await home.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static HttpClient Client() =>
        new(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };

    private async Task<HttpResponseMessage> SendAsync(
        HttpClient http, HttpMethod method, string path, bool https, string? portalUrl = null, bool viaProxy = true, HttpContent? content = null, string? cookies = null)
    {
        using var request = new HttpRequestMessage(method, $"{portalUrl ?? _proxied.BaseUrl}{path}") { Content = content };
        if (viaProxy)
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
    private async Task<HttpResponseMessage> SignInAsync(HttpClient http, HttpResponseMessage login, bool https, string? portalUrl = null, bool viaProxy = true)
    {
        var html = await login.Content.ReadAsStringAsync();
        var fields = HiddenInput().Matches(html).Select(m => KeyValuePair.Create(m.Groups["name"].Value, WebUtility.HtmlDecode(m.Groups["value"].Value))).ToList();
        fields.Add(KeyValuePair.Create("Input.Email", "analyst@acme.test"));
        fields.Add(KeyValuePair.Create("Input.Password", DemoSeeder.Password));
        var cookies = string.Join("; ", SetCookies(login).Select(c => c.Split(';')[0]));
        var response = await SendAsync(http, HttpMethod.Post, "/Account/Login", https, portalUrl, viaProxy, new FormUrlEncodedContent(fields), cookies);
        Assert.True(response.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther, $"{response.StatusCode}\n{_proxied.Log}");
        return response;
    }

    private static List<string> SetCookies(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var values) ? [.. values] : [];
}
