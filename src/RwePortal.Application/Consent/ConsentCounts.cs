using RwePortal.Application.Common;

namespace RwePortal.Application.Consent;

/// <summary>A count as people may see it: <see cref="Display"/> always; <see cref="Value"/> only when it may be shown as a number.</summary>
public sealed record CountCell(string Display, long? Value)
{
    public bool Suppressed => Value is null;
}

/// <summary>Counts of consent through the one <see cref="SmallCellPolicy"/>, with their complements protected.</summary>
internal static class ConsentCounts
{
    /// <summary>Shown as "—" when a count must be hidden because its complement is a small cell.</summary>
    public const string Hidden = "—";

    public static CountCell Cell(SmallCellPolicy policy, long count)
    {
        var shown = policy.Suppress(count);
        return new CountCell(shown.Display, shown.Value);
    }

    /// <summary>
    /// Consented and excluded people add up to the source's persons, which are shown: when either is a small cell,
    /// the other would give it away by difference, so it is hidden too.
    /// </summary>
    public static (CountCell Consented, CountCell Excluded) Complementary(SmallCellPolicy policy, long consented, long excluded)
    {
        var consentedCell = Cell(policy, consented);
        var excludedCell = Cell(policy, excluded);
        if (consentedCell.Suppressed && !excludedCell.Suppressed)
        {
            excludedCell = new CountCell(Hidden, null);
        }
        else if (excludedCell.Suppressed && !consentedCell.Suppressed)
        {
            consentedCell = new CountCell(Hidden, null);
        }

        return (consentedCell, excludedCell);
    }
}
