using Dapper;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Warehouse.Protocols;

/// <summary>Persons per arm. <see cref="Both"/>: persons who started both strategies within the grace period (not assignable).</summary>
public sealed record ArmCounts(long Treatment, long Comparator, long Both)
{
    public static ArmCounts Zero { get; } = new(0, 0, 0);

    public long Total => Treatment + Comparator + Both;

    public ArmCounts Add(string arm, long value) => arm switch
    {
        ProtocolPreviewCompiler.TreatmentArm => this with { Treatment = Treatment + value },
        ProtocolPreviewCompiler.ComparatorArm => this with { Comparator = Comparator + value },
        _ => this with { Both = Both + value },
    };
}

/// <summary>
/// One line of the preview's attrition: the consented persons left per arm after the step, or, for a step the
/// preview does not run (the prior-outcome exclusion, outcome-blind), no counts and the reason in the label.
/// </summary>
public sealed record PreviewStep(string Label, ArmCounts? Remaining);

/// <summary>Consented persons of the final cohort whose time zero falls in a period (a year, yyyy, or a month, yyyy-MM).</summary>
public sealed record TimeZeroBin(string Period, long Treatment, long Comparator);

/// <summary>
/// An outcome-blind cohort preview on one source for one purpose. Exact numbers: callers that show them apply the
/// small-cell policy. <see cref="IndexPersons"/> is before consent; <see cref="RemovedByConsent"/> is how many of them
/// consent removed (per arm).
/// </summary>
public sealed record ProtocolPreview(
    string Source,
    string Purpose,
    string TreatmentLabel,
    string ComparatorLabel,
    ArmCounts IndexPersons,
    ArmCounts RemovedByConsent,
    IReadOnlyList<PreviewStep> Attrition,
    TimeZeroBinning Binning,
    IReadOnlyList<TimeZeroBin> TimeZero,
    TimeSpan Duration)
{
    /// <summary>The cohort: the last counted step.</summary>
    public ArmCounts Cohort => Attrition.Last(s => s.Remaining is not null).Remaining!;
}

/// <summary>Runs compiled previews through the warehouse read seam, as the read-only warehouse role.</summary>
public sealed class ProtocolPreviewer(WarehouseConnections connections)
{
    public static CompiledPreview Compile(ProtocolPreviewInput input, DataSource source, string purpose, TimeZeroBinning binning = TimeZeroBinning.Year) =>
        ProtocolPreviewCompiler.Compile(input, source.SchemaName, source.Name, purpose, binning);

    private sealed record Row(string Arm, string Period, long[] Counts);

    public async Task<ProtocolPreview> PreviewAsync(ProtocolPreviewInput input, DataSource source, string purpose, TimeZeroBinning binning, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var compiled = Compile(input, source, purpose, binning);
        var parameters = new DynamicParameters();
        foreach (var parameter in compiled.Parameters)
        {
            parameters.Add(parameter.Name, parameter.Value);
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var rows = new List<Row>();
        await using (var connection = await connections.OpenAsync(cancellationToken))
        await using (var reader = await connection.ExecuteReaderAsync(new CommandDefinition(
            compiled.Sql, parameters, commandTimeout: WarehouseConnections.CommandTimeoutSeconds, cancellationToken: cancellationToken)))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var counts = new long[1 + compiled.Steps.Count];
                for (var i = 0; i < counts.Length; i++)
                {
                    counts[i] = reader.GetInt64(2 + i);
                }

                rows.Add(new Row(reader.GetString(0), reader.GetString(1), counts));
            }
        }

        var index = ArmCounts.Zero;
        var steps = compiled.Steps.Select(_ => ArmCounts.Zero).ToArray();
        foreach (var row in rows)
        {
            index = index.Add(row.Arm, row.Counts[0]);
            for (var i = 0; i < steps.Length; i++)
            {
                steps[i] = steps[i].Add(row.Arm, row.Counts[1 + i]);
            }
        }

        var attrition = compiled.Steps.Select((label, i) => new PreviewStep(label, steps[i])).ToList();
        if (input.Eligibility.ExcludePriorOutcome is not null)
        {
            attrition.Add(new PreviewStep(ProtocolPreviewCompiler.PriorOutcomeLine, null));
        }

        var last = compiled.Steps.Count;
        var bins = rows
            .Where(r => r.Arm != ProtocolPreviewCompiler.BothArm)
            .GroupBy(r => r.Period, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new TimeZeroBin(
                g.Key,
                g.Where(r => r.Arm == ProtocolPreviewCompiler.TreatmentArm).Sum(r => r.Counts[last]),
                g.Where(r => r.Arm == ProtocolPreviewCompiler.ComparatorArm).Sum(r => r.Counts[last])))
            .Where(b => b.Treatment + b.Comparator > 0)
            .ToList();
        var removed = new ArmCounts(index.Treatment - steps[0].Treatment, index.Comparator - steps[0].Comparator, index.Both - steps[0].Both);
        return new ProtocolPreview(source.Name, purpose, input.Strategies.Treatment.Label, input.Strategies.Comparator.Label,
            index, removed, attrition, binning, bins, clock.Elapsed);
    }
}
