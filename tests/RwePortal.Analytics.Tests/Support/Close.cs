namespace RwePortal.Analytics.Tests.Support;

/// <summary>Agreement with R: 1e-6 relative, 1e-9 absolute near zero.</summary>
public static class Close
{
    public const double Relative = 1e-6;
    public const double Absolute = 1e-9;

    public static void Assert(double expected, double actual, string what, double relative = Relative, double absolute = Absolute)
    {
        var tolerance = Math.Max(relative * Math.Abs(expected), absolute);
        if (!(Math.Abs(expected - actual) <= tolerance))
        {
            throw new Xunit.Sdk.XunitException(
                $"{what}: R gives {expected:R}, engine gives {actual:R} (difference {Math.Abs(expected - actual):E3}, tolerance {tolerance:E3}).");
        }
    }
}
