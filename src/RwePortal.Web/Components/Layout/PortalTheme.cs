using MudBlazor;

namespace RwePortal.Web.Components.Layout;

/// <summary>The portal's palette, light and dark; typography uses the system font stack (no web fonts to fetch).</summary>
internal static class PortalTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#1f5f8b",
            Secondary = "#2a9d8f",
            AppbarBackground = "#1f5f8b",
            Background = "#f7f9fb",
        },
        PaletteDark = new PaletteDark
        {
            Primary = "#6cb4e4",
            Secondary = "#52c7b8",
        },
        Typography = new Typography
        {
            Default = new DefaultTypography
            {
                FontFamily = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"],
            },
        },
    };
}
