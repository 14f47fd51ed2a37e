using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Privacy;
using RwePortal.Application.Tenancy;
using RwePortal.Warehouse;
using RwePortal.Warehouse.Cohorts;
using RwePortal.Warehouse.Cohorts.Characterization;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Application.Features.Subgroups;

/// <summary>
/// A subgroup's characterization ("Table 1") as people may see it: every count through the tenant's small-cell policy,
/// statistics only where the count behind them is shown. <see cref="Persons"/> is the subgroup's count (the same number
/// <see cref="CountSubgroup"/> shows for the definition).
/// </summary>
public sealed record SubgroupTable1(string Source, string Purpose, ProtectedCount Persons, IReadOnlyList<Table1Section> Sections, double DurationMs);

/// <summary>A section of a Table 1 (demographics, conditions, measurements, wearables …) and its rows in display order.</summary>
public sealed record Table1Section(string Key, string Title, IReadOnlyList<Table1Row> Rows);

/// <summary>
/// One row: <see cref="Count"/> members in the category or with the event (null for a distribution-only row), its
/// <see cref="Percent"/> of the shown persons (null unless both are shown), and a <see cref="Distribution"/> of values.
/// </summary>
public sealed record Table1Row(string Key, string Label, ProtectedCount? Count, double? Percent, Table1Distribution? Distribution);

/// <summary>A distribution over <see cref="N"/> members; every statistic is null unless <see cref="N"/> is shown.</summary>
public sealed record Table1Distribution(ProtectedCount N, double? Mean, double? Sd, double? P25, double? Median, double? P75, string? Unit);

/// <summary>
/// One row of a comparison: the row in subgroup A and in B (a row one subgroup lacks is a shown zero there), and the
/// standardized difference A − B, computed from the exact aggregates and given only where both rows' counts are shown.
/// </summary>
public sealed record ComparisonRow(string SectionKey, string RowKey, string Label, Table1Row? A, Table1Row? B, double? Smd);

/// <summary>
/// Standardized differences as the statistics engine's balance check defines them (<c>CovariateBalance</c>): for
/// proportions (p₁ − p₂) / √((p₁(1 − p₁) + p₂(1 − p₂)) / 2), for continuous values (m₁ − m₂) / √((s₁² + s₂²) / 2) with
/// sample (n − 1) standard deviations. Equal groups without spread differ by 0; unequal ones without spread have none.
/// </summary>
public static class StandardizedDifference
{
    public static double? OfProportions(double p1, double p2) => Of(p1 - p2, (p1 * (1 - p1)) + (p2 * (1 - p2)));

    public static double? OfMeans(double m1, double s1, double m2, double s2) => Of(m1 - m2, (s1 * s1) + (s2 * s2));

    private static double? Of(double difference, double variances)
    {
        var denominator = Math.Sqrt(variances / 2);
        if (denominator < 1e-12)
        {
            return Math.Abs(difference) < 1e-12 ? 0 : null;
        }

        return difference / denominator;
    }
}

/// <summary>
/// Turns exact aggregates into a <see cref="SubgroupTable1"/> under a small-cell policy (docs/characterization.md):
/// <list type="bullet">
/// <item>partition sections (sex, race, ethnicity, age band) are tables whose total is the persons count: complementary
/// suppression (<see cref="ComplementarySuppression"/>) so no small category follows from the total and the others;</item>
/// <item>every other count is a part of the persons count: it is hidden when it is small ("&lt;11") and when the
/// members without it are (persons − count from 1 to threshold − 1: "—"), so total minus part reveals nothing; the
/// same against a section's own total (wearers with a step count against all wearers);</item>
/// <item>shown counts get the policy's noise seeded by the query's canonical form and the row's key; a count equal to
/// the persons count shows as the persons count, so one number never carries two noises;</item>
/// <item>percentages are of the shown numbers; statistics are shown only with a shown count behind them.</item>
/// </list>
/// </summary>
public static class SubgroupTable1Builder
{
    /// <param name="characterization">The exact aggregates.</param>
    /// <param name="policy">Decides which counts are small (and so which are hidden).</param>
    /// <param name="count">A shown count for an exact count and the measure it is (the noise's seed part).</param>
    public static SubgroupTable1 Build(SubgroupCharacterization characterization, SmallCellPolicy policy, Func<long, string, ProtectedCount> count)
    {
        ArgumentNullException.ThrowIfNull(characterization);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(count);
        var total = characterization.Persons;
        var persons = count(total, PersonsMeasure);
        var suppressed = new ProtectedCount(null, CellProtection.Suppressed, policy.SuppressedDisplay);
        var complement = new ProtectedCount(null, CellProtection.Complementary, SmallCellPolicy.ComplementDisplay);
        ProtectedCount Shown(long exact, string measure) => exact == total ? persons : count(exact, measure);

        var sections = new List<Table1Section>();
        foreach (var section in SubgroupCharacterizer.Sections)
        {
            var rows = characterization.Rows.Where(r => r.Section == section.Key).ToList();
            var counts = new ProtectedCount[rows.Count];
            if (section.Kind == CharacterizationRowKind.Partition && rows.Count > 0)
            {
                var plan = ComplementarySuppression.Plan(rows.Select(r => (IReadOnlyList<long>)[r.Persons]).ToList(), policy);
                // The total is the persons count, shown on its own; a plan that would hide it hides the section instead.
                var withheld = plan.Withheld || (plan.Hidden[rows.Count, 0] is not null && !persons.Hidden);
                for (var i = 0; i < rows.Count; i++)
                {
                    var hidden = plan.Hidden[i, 0] ?? plan.Hidden[i, 1];
                    counts[i] = withheld ? suppressed : hidden switch
                    {
                        CellProtection.Suppressed => suppressed,
                        CellProtection.Complementary => complement,
                        _ => Shown(rows[i].Persons, Measure(rows[i])),
                    };
                }
            }
            else
            {
                // A section total of its own (the wearers) is one more whole each part must not leave a small remainder of.
                var sectionTotal = rows.FirstOrDefault(r => r.Key == section.TotalRow)?.Persons;
                for (var i = 0; i < rows.Count; i++)
                {
                    var exact = rows[i].Persons;
                    counts[i] = policy.IsSuppressed(exact) ? suppressed
                        : policy.IsSuppressed(total - exact) || (sectionTotal is { } whole && policy.IsSuppressed(whole - exact)) ? complement
                        : Shown(exact, Measure(rows[i]));
                }
            }

            sections.Add(new Table1Section(section.Key, section.Title, rows.Select((r, i) => Row(r, counts[i], persons)).ToList()));
        }

        return new SubgroupTable1(
            characterization.Source,
            characterization.Purpose,
            persons,
            sections,
            Math.Round(characterization.Duration.TotalMilliseconds, 1));
    }

    /// <summary>The seed part of the persons count: the same measure <see cref="CountSubgroup"/> uses for its count.</summary>
    public const string PersonsMeasure = "count";

    /// <summary>The seed part of a row's count: its section and key.</summary>
    public static string Measure(CharacterizationRow row) => $"table1/{row.Section}/{row.Key}";

    private static Table1Row Row(CharacterizationRow row, ProtectedCount count, ProtectedCount persons)
    {
        var hasCount = row.Kind != CharacterizationRowKind.Distribution;
        var hasStatistics = row.Kind == CharacterizationRowKind.Distribution || row.Unit is not null || row.Mean is not null;
        double? percent = hasCount && !count.Hidden && !persons.Hidden && persons.Value > 0
            ? Math.Round(100.0 * count.Value!.Value / persons.Value!.Value, 1)
            : null;
        Table1Distribution? distribution = null;
        if (hasStatistics)
        {
            var shown = !count.Hidden && count.Value > 0;
            distribution = new Table1Distribution(
                count,
                shown ? Round(row.Mean) : null,
                shown ? Round(row.Sd) : null,
                shown ? Round(row.P25) : null,
                shown ? Round(row.Median) : null,
                shown ? Round(row.P75) : null,
                row.Unit);
        }

        return new Table1Row(row.Key, row.Label, hasCount ? count : null, percent, distribution);
    }

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 2) : null;
}

/// <summary>What the characterization slices share: the tenant's grant, the statement run as the reader, its audit.</summary>
internal static class SubgroupCharacterizations
{
    /// <summary>The source as the current tenant sees it: through its own grant, for a granted purpose; else the error.</summary>
    public static Task<Result<DataSource>> GrantedSourceAsync(AppDbContext db, string sourceName, string purpose, CancellationToken cancellationToken) =>
        GrantedDataSources.FindAsync(db, sourceName, purpose, "Subgroup.PurposeNotGranted", cancellationToken);

    /// <summary>
    /// The query's canonical form: the compiled count statement and its parameters, exactly as <see cref="CountSubgroup"/>
    /// seeds its noise, so the persons of a Table 1 show the number the count shows.
    /// </summary>
    public static string Canonical(SubgroupDefinition definition, DataSource source, string purpose)
    {
        var compiled = SubgroupCounter.Compile(definition, source, purpose);
        return compiled.Sql + "\n" + JsonSerializer.Serialize(compiled.Parameters.Select(p => new[] { p.Name, JsonSerializer.Serialize(p.Value) }));
    }

    /// <summary>Runs the characterization statement as the warehouse reader and puts it on the tenant's audit trail.</summary>
    public static async Task<SubgroupCharacterization> RunAsync(
        WarehouseConnections warehouse,
        IAuditTrail audit,
        SubgroupDefinition definition,
        DataSource source,
        string purpose,
        IReadOnlyCollection<string>? include,
        CancellationToken cancellationToken)
    {
        var compiled = SubgroupCharacterizer.Compile(definition, source, purpose, include);
        var result = await new SubgroupCharacterizer(warehouse).CharacterizeAsync(definition, source, purpose, include, cancellationToken);
        await audit.RecordWarehouseQueryAsync(
            Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(compiled.Sql))),
            new Dictionary<string, object?>
            {
                ["source"] = source.Name,
                ["purpose"] = purpose,
                ["kind"] = "characterization",
                ["values"] = compiled.Parameters.ToDictionary(p => p.Name, p => p.Value),
            },
            result.Persons,
            result.Duration,
            cancellationToken);
        return result;
    }

    /// <summary>
    /// Two definitions characterized on the same rows: A first, then B with A's top rows named, then A again with B's top
    /// rows it lacks (only when there are any). A named row that comes back absent has no member with it: a zero.
    /// </summary>
    public static async Task<(SubgroupTable1 A, SubgroupTable1 B, IReadOnlyList<ComparisonRow> Rows)> CompareAsync(
        WarehouseConnections warehouse,
        IAuditTrail audit,
        SmallCellPolicy policy,
        DataSource source,
        SubgroupDefinition a,
        SubgroupDefinition b,
        string purpose,
        CancellationToken cancellationToken)
    {
        var exactA = await RunAsync(warehouse, audit, a, source, purpose, include: null, cancellationToken);
        var exactB = await RunAsync(warehouse, audit, b, source, purpose, TopKeys(exactA), cancellationToken);
        var missing = TopKeys(exactB).Except(TopKeys(exactA), StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
        {
            exactA = await RunAsync(warehouse, audit, a, source, purpose, missing, cancellationToken);
        }

        (exactA, exactB) = (Align(exactA, exactB), Align(exactB, exactA));
        var tableA = Protect(exactA, policy, Canonical(a, source, purpose));
        var tableB = Protect(exactB, policy, Canonical(b, source, purpose));
        var rows = new List<ComparisonRow>();
        foreach (var section in tableA.Sections)
        {
            var sectionB = tableB.Sections.Single(s => s.Key == section.Key);
            foreach (var rowA in section.Rows)
            {
                var rowB = sectionB.Rows.Single(r => r.Key == rowA.Key);
                var exactRowA = exactA.Rows.Single(r => r.Section == section.Key && r.Key == rowA.Key);
                var exactRowB = exactB.Rows.Single(r => r.Section == section.Key && r.Key == rowA.Key);
                var smd = Smd(exactRowA, exactA.Persons, rowA, tableA.Persons, exactRowB, exactB.Persons, rowB, tableB.Persons);
                // Two decimals, as balance is read (|SMD| < 0.1): more digits of an exact ratio would narrow the noisy counts.
                rows.Add(new ComparisonRow(section.Key, rowA.Key, rowA.Label, rowA, rowB, smd is { } d ? Math.Round(d, 2) : null));
            }
        }

        return (tableA, tableB, rows);
    }

    /// <summary>The rows of top lists ("section:key"), which the other subgroup must be asked for by name.</summary>
    private static HashSet<string> TopKeys(SubgroupCharacterization characterization)
    {
        var topLists = SubgroupCharacterizer.Sections.Where(s => s.TopList).Select(s => s.Key).ToHashSet(StringComparer.Ordinal);
        return characterization.Rows.Where(r => topLists.Contains(r.Section)).Select(r => r.Section + ":" + r.Key).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Adds, as zeros, the rows <paramref name="other"/> has and <paramref name="characterization"/> lacks.</summary>
    private static SubgroupCharacterization Align(SubgroupCharacterization characterization, SubgroupCharacterization other)
    {
        var present = characterization.Rows.Select(r => (r.Section, r.Key)).ToHashSet();
        var zeros = other.Rows.Where(r => !present.Contains((r.Section, r.Key)))
            .Select(r => r with { Persons = 0, Mean = null, Sd = null, P25 = null, Median = null, P75 = null, Rank = int.MaxValue });
        var order = SubgroupCharacterizer.Sections.Select((s, i) => (s.Key, i)).ToDictionary(p => p.Key, p => p.i);
        var rows = characterization.Rows.Concat(zeros).OrderBy(r => order[r.Section]).ThenBy(r => r.Rank).ThenBy(r => r.Key, StringComparer.Ordinal).ToList();
        return characterization with { Rows = rows };
    }

    /// <summary>The SMD of a row, only where both subgroups show the numbers it rests on: proportions from the shown counts, means from the exact aggregates whose mean and sd are shown anyway.</summary>
    private static double? Smd(
        CharacterizationRow a, long personsA, Table1Row shownA, ProtectedCount shownPersonsA,
        CharacterizationRow b, long personsB, Table1Row shownB, ProtectedCount shownPersonsB)
    {
        if (shownPersonsA.Hidden || shownPersonsB.Hidden || personsA == 0 || personsB == 0)
        {
            return null;
        }

        if (a.Kind == CharacterizationRowKind.Distribution)
        {
            var shown = shownA.Distribution is { N.Hidden: false } && shownB.Distribution is { N.Hidden: false };
            return shown && a is { Mean: { } m1, Sd: { } s1 } && b is { Mean: { } m2, Sd: { } s2 }
                ? StandardizedDifference.OfMeans(m1, s1, m2, s2)
                : null;
        }

        // Proportions from the SHOWN counts and totals, as the percentages are: an SMD of the exact proportions would let
        // a reader solve for the exact count behind a noisy one (at 30 persons one person moves the SMD by ~0.07).
        return shownA.Count is { Value: { } countA } && shownB.Count is { Value: { } countB }
               && shownPersonsA.Value is > 0 && shownPersonsB.Value is > 0
            ? StandardizedDifference.OfProportions(
                Math.Min(1.0, (double)countA / shownPersonsA.Value.Value), Math.Min(1.0, (double)countB / shownPersonsB.Value.Value))
            : null;
    }

    /// <summary>The tenant's policy applied to a characterization, noise seeded by the canonical query and each row's key.</summary>
    public static SubgroupTable1 Protect(SubgroupCharacterization characterization, SmallCellPolicy policy, string canonical) =>
        SubgroupTable1Builder.Build(
            characterization,
            policy,
            (exact, measure) => policy.Count(exact, QuerySeed.Of(canonical, characterization.Source, characterization.Purpose, measure)));
}
