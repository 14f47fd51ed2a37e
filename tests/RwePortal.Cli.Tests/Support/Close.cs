namespace RwePortal.Cli.Tests.Support;

/// <summary>Agreement with R, as the statistics tests define it: 1e-6 relative, 1e-9 absolute near zero.</summary>
internal static class Close
{
    public static void Assert(double expected, double actual, string what)
    {
        var tolerance = Math.Max(1e-6 * Math.Abs(expected), 1e-9);
        if (!(Math.Abs(expected - actual) <= tolerance))
        {
            throw new Xunit.Sdk.XunitException(
                $"{what}: R gives {expected:R}, the CLI gives {actual:R} (difference {Math.Abs(expected - actual):E3}, tolerance {tolerance:E3}).");
        }
    }
}
