namespace RwePortal.Web.Components.Account;

/// <summary>
/// The one check every return URL of the account pages and endpoints goes through, so that a link someone sends
/// (<c>?returnUrl=javascript:…</c>, <c>//evil.example</c>) can only lead back into the portal. The portal is served
/// at the root of its host (docs/deployment.md).
/// </summary>
internal static class ReturnUrls
{
    /// <summary>Where a missing or refused return URL leads.</summary>
    public const string Home = "/";

    /// <summary>
    /// Whether <paramref name="url"/> is a path on this host: it starts with one <c>/</c> (not <c>//</c> or <c>/\</c>,
    /// which browsers read as another host), and holds no backslash, whitespace or control character (browsers drop
    /// tabs and line breaks, turning <c>/&#9;/evil</c> into <c>//evil</c>).
    /// </summary>
    public static bool IsLocal(string? url) =>
        url is ['/', ..]
        && (url.Length == 1 || url[1] is not ('/' or '\\'))
        && !url.Any(c => c == '\\' || char.IsWhiteSpace(c) || char.IsControl(c));

    /// <summary>
    /// <paramref name="url"/> as a local path, or <see cref="Home"/> when it is missing or leads elsewhere. Besides
    /// local paths it accepts the other forms the portal itself produces: a path relative to the base address
    /// (<c>admin/users</c>, from navigation links) and an absolute URL under the portal's own base address
    /// <paramref name="baseUri"/> (from the sign-in redirect of an open page).
    /// </summary>
    public static string ToLocal(string? url, string baseUri)
    {
        if (string.IsNullOrEmpty(url))
        {
            return Home;
        }

        if (url.StartsWith(baseUri, StringComparison.OrdinalIgnoreCase) && baseUri.EndsWith('/'))
        {
            url = url[(baseUri.Length - 1)..];
        }
        else if (IsBaseRelative(url))
        {
            url = "/" + url;
        }

        return IsLocal(url) ? url : Home;
    }

    /// <summary>A relative path such as <c>admin/users</c>: no scheme (no colon before the first <c>/</c>, <c>?</c> or <c>#</c>), no leading slash.</summary>
    private static bool IsBaseRelative(string url)
    {
        if (url[0] is '/' or '\\' or '~')
        {
            return false;
        }

        var end = url.IndexOfAny(['/', '?', '#']);
        var first = end < 0 ? url : url[..end];
        return !first.Contains(':', StringComparison.Ordinal);
    }
}
