using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using RwePortal.Web.Components.Account;

namespace RwePortal.Web.Tests.Components.Account;

/// <summary>Every return URL of the account pages and endpoints goes through <see cref="ReturnUrls"/>: only paths in the portal pass.</summary>
public sealed class ReturnUrlsTests : BunitContext
{
    private const string Base = "https://rwe.example.test/";

    public static TheoryData<string?> Hostile() =>
    [
        null,
        "",
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example",
        "//evil.example/path",
        "/\\evil.example",
        "\\\\evil.example",
        "\\/evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "https://evil.example/",
        "http://evil.example",
        "https://rwe.example.test.evil.example/",
        "https://rwe.example.test@evil.example/",
        "https:evil.example",
        "~//evil.example",
        "~/\\evil.example",
        "/admin\\..\\..\\evil",
        "https://rwe.example.test//evil.example",
    ];

    [Theory]
    [MemberData(nameof(Hostile))]
    public void A_return_url_that_could_leave_the_portal_or_run_script_leads_home(string? url)
    {
        Assert.Equal(ReturnUrls.Home, ReturnUrls.ToLocal(url, Base));
    }

    [Theory]
    [InlineData("/", "/")]
    [InlineData("/admin/users", "/admin/users")]
    [InlineData("/admin/users?page=2#top", "/admin/users?page=2#top")]
    [InlineData("admin/users", "/admin/users")]
    [InlineData("Account/Manage/EnableAuthenticator?returnUrl=%2Fadmin%2Fusers", "/Account/Manage/EnableAuthenticator?returnUrl=%2Fadmin%2Fusers")]
    [InlineData("https://rwe.example.test/admin/audit", "/admin/audit")]
    [InlineData("HTTPS://RWE.EXAMPLE.TEST/admin/audit", "/admin/audit")]
    public void A_path_in_the_portal_is_kept(string url, string expected) =>
        Assert.Equal(expected, ReturnUrls.ToLocal(url, Base));

    [Theory]
    [InlineData("/", true)]
    [InlineData("/x", true)]
    [InlineData("//x", false)]
    [InlineData("/\\x", false)]
    [InlineData("x", false)]
    [InlineData("/x y", false)]
    [InlineData("/x\u0000", false)]
    public void Is_local_means_one_leading_slash_and_nothing_a_browser_would_rewrite(string url, bool local) =>
        Assert.Equal(local, ReturnUrls.IsLocal(url));

    [Theory]
    [MemberData(nameof(Hostile))]
    public void The_account_pages_redirect_manager_never_navigates_out_of_the_portal(string? url)
    {
        var navigation = Services.GetRequiredService<NavigationManager>();
        var redirects = new IdentityRedirectManager(navigation);

        redirects.RedirectTo(url);

        Assert.Equal(navigation.BaseUri, navigation.Uri);
    }

    [Fact]
    public void The_redirect_manager_follows_a_path_in_the_portal()
    {
        var navigation = Services.GetRequiredService<NavigationManager>();

        new IdentityRedirectManager(navigation).RedirectTo("/admin/users?page=2");

        Assert.Equal(navigation.BaseUri + "admin/users?page=2", navigation.Uri);
    }
}
