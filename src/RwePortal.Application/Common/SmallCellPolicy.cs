using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using RwePortal.Application.Privacy;

namespace RwePortal.Application.Common;

/// <summary>
/// The one rule for every count a person, an export or the API shows (docs/privacy.md):
/// <list type="bullet">
/// <item>zero is shown as 0;</item>
/// <item>a count from 1 to <see cref="Threshold"/> − 1 is suppressed and shown as "&lt;<see cref="Threshold"/>" (default "&lt;11");</item>
/// <item>a larger count from a query (<see cref="Count"/>) gets deterministic noise of at most ±<see cref="NoiseRange"/>,
/// drawn from a keyed hash of the query's seed (the same query always gets the same noise, so repeating it cannot
/// average the noise away), and is never shown below the threshold ("~1,230");</item>
/// <item>a table (<see cref="ProtectTable"/>) also hides complementary cells, so no suppressed cell follows from
/// its row or column totals.</item>
/// </list>
/// </summary>
public sealed class SmallCellPolicy
{
    public const int DefaultThreshold = 11;

    /// <summary>The lowest threshold a tenant may set (a CHECK constraint holds the database to it too).</summary>
    public const int MinimumThreshold = 5;

    /// <summary>Noise is uniform on the integers −3..+3.</summary>
    public const int DefaultNoiseRange = 3;

    /// <summary>Shown in place of a count hidden because it would reveal a suppressed one.</summary>
    public const string ComplementDisplay = "—";

    private const int MinimumKeyLength = 16;

    private readonly byte[]? _noiseKey;

    /// <param name="threshold">Counts from 1 to threshold − 1 are suppressed.</param>
    /// <param name="noiseKey">
    /// The secret the noise is drawn with (at least 16 bytes). Without it the policy only suppresses (<see cref="Suppress"/>);
    /// <see cref="Count"/> and <see cref="ProtectTable"/> need it, since noise anyone could compute from public code
    /// could be subtracted again.
    /// </param>
    /// <param name="noiseRange">The largest absolute noise added to a count.</param>
    public SmallCellPolicy(int threshold = DefaultThreshold, ReadOnlySpan<byte> noiseKey = default, int noiseRange = DefaultNoiseRange)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threshold, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(noiseRange);
        if (!noiseKey.IsEmpty && noiseKey.Length < MinimumKeyLength)
        {
            throw new ArgumentException($"A noise key has at least {MinimumKeyLength} bytes.", nameof(noiseKey));
        }

        Threshold = threshold;
        NoiseRange = noiseRange;
        _noiseKey = noiseKey.IsEmpty ? null : noiseKey.ToArray();
    }

    /// <summary>The policy with the default threshold of 11 and no noise key (suppression only).</summary>
    public static SmallCellPolicy Default { get; } = new();

    /// <summary>The smallest count shown as a number (besides zero).</summary>
    public int Threshold { get; }

    /// <summary>The largest absolute noise added to a count.</summary>
    public int NoiseRange { get; }

    /// <summary>Whether this policy can perturb counts (it holds a noise key).</summary>
    public bool CanPerturb => _noiseKey is not null;

    /// <summary>What a suppressed count shows: "&lt;11" for the default threshold.</summary>
    public string SuppressedDisplay => "<" + Threshold.ToString(CultureInfo.InvariantCulture);

    /// <summary>Whether the count must not be shown as a number.</summary>
    public bool IsSuppressed(long count) => count > 0 && count < Threshold;

    /// <summary>The count as people may see it when no noise applies (a registry's own counts, see <see cref="Suppress"/>).</summary>
    public string Display(long count) => IsSuppressed(count) ? SuppressedDisplay : Format(count);

    /// <summary>
    /// Suppression without noise, for counts that are not query results an analyst can vary (a consent registry's
    /// totals for its custodian and the tenants it grants): 0 and counts from the threshold up exact, the rest hidden.
    /// </summary>
    public ProtectedCount Suppress(long exact)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(exact);
        return IsSuppressed(exact)
            ? new ProtectedCount(null, CellProtection.Suppressed, SuppressedDisplay)
            : new ProtectedCount(exact, CellProtection.Exact, Format(exact));
    }

    /// <summary>
    /// A query's count as it may be shown: 0 as 0, 1..threshold − 1 suppressed, larger counts perturbed by noise
    /// seeded from <paramref name="querySeed"/> (<see cref="QuerySeed"/>: the same logically identical query ⇒ the
    /// same seed ⇒ the same shown number) and never shown below the threshold.
    /// </summary>
    /// <exception cref="InvalidOperationException">The policy has no noise key (a bug in the caller).</exception>
    public ProtectedCount Count(long exact, ReadOnlySpan<byte> querySeed) => CountAt(exact, querySeed, -1, -1);

    /// <summary>
    /// A table of disjoint cells (rows × columns of exact counts) with its row totals, column totals and grand total,
    /// protected together: small cells suppressed; then, in every row and column (totals included), a line with a
    /// suppressed entry gets at least one more that is not small, so neither the totals nor the other cells give a
    /// suppressed one away; every shown count but zero is perturbed as <see cref="Count"/> does, each cell with noise
    /// of its own drawn from <paramref name="querySeed"/> and its position. A table no pattern protects (its small
    /// cells pin each other by the marks alone) is withheld: every entry, zeros included, shows as suppressed.
    /// </summary>
    /// <exception cref="ArgumentException">Rows of different lengths, or a negative count.</exception>
    /// <exception cref="InvalidOperationException">The policy has no noise key (a bug in the caller).</exception>
    public ProtectedTable ProtectTable(IReadOnlyList<IReadOnlyList<long>> cells, ReadOnlySpan<byte> querySeed)
    {
        ArgumentNullException.ThrowIfNull(cells);
        _ = Noise(querySeed, -1, -1); // refuses without a key, whatever the table holds
        var pattern = ComplementarySuppression.Plan(cells, this);
        var rows = pattern.Rows;
        var columns = pattern.Columns;
        var protectedCells = new ProtectedCount[rows + 1][];
        for (var r = 0; r <= rows; r++)
        {
            protectedCells[r] = new ProtectedCount[columns + 1];
            for (var c = 0; c <= columns; c++)
            {
                var exact = pattern.Values[r, c];
                protectedCells[r][c] = (pattern.Withheld ? CellProtection.Suppressed : pattern.Hidden[r, c]) switch
                {
                    CellProtection.Suppressed => new ProtectedCount(null, CellProtection.Suppressed, SuppressedDisplay),
                    CellProtection.Complementary => new ProtectedCount(null, CellProtection.Complementary, ComplementDisplay),
                    _ => CountAt(exact, querySeed, r, c),
                };
            }
        }

        return new ProtectedTable(protectedCells, rows, columns, pattern.Withheld);
    }

    /// <summary>The noise a count at a cell gets for a seed: uniform on −<see cref="NoiseRange"/>..+<see cref="NoiseRange"/>.</summary>
    internal int Noise(ReadOnlySpan<byte> querySeed, int row, int column)
    {
        if (_noiseKey is null)
        {
            throw new InvalidOperationException("This small-cell policy has no noise key; counts from queries need one (SmallCellPolicies).");
        }

        if (NoiseRange == 0)
        {
            return 0;
        }

        Span<byte> message = stackalloc byte[querySeed.Length + 8];
        querySeed.CopyTo(message);
        BinaryPrimitives.WriteInt32BigEndian(message[querySeed.Length..], row);
        BinaryPrimitives.WriteInt32BigEndian(message[(querySeed.Length + 4)..], column);
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_noiseKey, message, mac);
        var width = (ulong)(2 * NoiseRange + 1);
        return (int)(BinaryPrimitives.ReadUInt64BigEndian(mac) % width) - NoiseRange;
    }

    private ProtectedCount CountAt(long exact, ReadOnlySpan<byte> querySeed, int row, int column)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(exact);
        var noise = Noise(querySeed, row, column);
        if (exact == 0)
        {
            return new ProtectedCount(0, CellProtection.Exact, "0");
        }

        if (IsSuppressed(exact))
        {
            return new ProtectedCount(null, CellProtection.Suppressed, SuppressedDisplay);
        }

        var shown = Math.Max(Threshold, exact + noise);
        return new ProtectedCount(shown, CellProtection.Perturbed, "~" + Format(shown));
    }

    private static string Format(long count) => count.ToString("N0", CultureInfo.InvariantCulture);
}
