using System.Globalization;

namespace RwePortal.Application.Common;

/// <summary>
/// The one rule for counts that people or exports see: a count from 1 to <see cref="Threshold"/> − 1 is shown as
/// "&lt;<see cref="Threshold"/>" (default "&lt;11"), zero and larger counts as they are.
/// </summary>
public sealed class SmallCellPolicy
{
    public const int DefaultThreshold = 11;

    public SmallCellPolicy(int threshold = DefaultThreshold)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threshold, 1);
        Threshold = threshold;
    }

    /// <summary>The policy with the default threshold of 11.</summary>
    public static SmallCellPolicy Default { get; } = new();

    /// <summary>The smallest count shown as a number (besides zero).</summary>
    public int Threshold { get; }

    /// <summary>Whether the count must not be shown as a number.</summary>
    public bool IsSuppressed(long count) => count > 0 && count < Threshold;

    /// <summary>The count as people may see it.</summary>
    public string Display(long count) =>
        IsSuppressed(count) ? "<" + Threshold.ToString(CultureInfo.InvariantCulture) : count.ToString("N0", CultureInfo.InvariantCulture);
}
