using Dapper;
using Npgsql;
using RwePortal.Warehouse.Cohorts;
using RwePortal.Warehouse.Protocols;

namespace RwePortal.Warehouse.Analyses;

/// <summary>
/// The person-period data of a per-protocol run (docs/analyses.md, decision 1090): for each member of the study
/// population, 30-day periods from time zero to the end of their follow-up, whether they deviated from their strategy
/// in the period (censored at its end), the outcome in the period, and two time-varying covariates measured in the
/// period before: an inpatient admission (visit 9201) and a dispensing of their own strategy. Three statements over
/// the population (end-of-follow-up dates and the first outcome, dispensings, admissions), each with the consent filter
/// for the purpose inside, over the read-only connection (and transaction) of the caller.
/// </summary>
public static class PersonPeriodExtractor
{
    /// <summary>Days of one period.</summary>
    public const int DefaultPeriodDays = 30;

    /// <summary>The inpatient visit concept.</summary>
    public const int InpatientVisit = 9201;

    public static readonly IReadOnlyList<string> TimeVaryingNames =
        ["inpatient admission in the previous period", "own-strategy dispensing in the previous period"];

    public static async Task<PersonPeriodData> ExtractAsync(
        NpgsqlConnection reader, string schemaName, string source, string purpose, ProtocolDefinition protocol, IReadOnlyList<PopulationMember> members,
        int periodDays, int commandTimeoutSeconds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(members);
        ArgumentOutOfRangeException.ThrowIfLessThan(periodDays, 1);
        if (!protocol.IsComplete || protocol.Contrast!.Type != ContrastType.PerProtocol)
        {
            throw new ArgumentException("person-periods are for a complete per-protocol protocol", nameof(protocol));
        }

        var followUp = protocol.FollowUp!;
        var ids = members.Select(m => m.PersonId).ToArray();
        var zeros = members.Select(m => m.TimeZero).ToArray();
        var n = members.Count;

        // The end of follow-up other than deviation, and the first outcome (as the study population reads them).
        var last = new int[n];
        Array.Fill(last, followUp.MaxDays - 1);
        var outcome = new int?[n];
        var ends = StudyPopulationSql.FollowUp(protocol, schemaName, source, purpose);
        var endRows = await reader.QueryAsync<(long I, DateTime? Death, DateTime? EnrolledUntil, DateTime? ObservedUntil, DateTime? Outcome)>(
            Command(ends.Sql, WithPopulation(ends.Parameters, ids, zeros), commandTimeoutSeconds, cancellationToken));
        var consented = new bool[n];
        foreach (var row in endRows)
        {
            var i = (int)row.I - 1;
            consented[i] = true;
            int? Day(DateTime? date) => date is { } d ? DateOnly.FromDateTime(d).DayNumber - zeros[i].DayNumber : null;
            void End(FollowUpEnd kind, DateTime? date)
            {
                if (followUp.EndAt.Contains(kind) && Day(date) is { } day)
                {
                    last[i] = Math.Min(last[i], day);
                }
            }

            End(FollowUpEnd.Death, row.Death);
            End(FollowUpEnd.Disenrollment, row.EnrolledUntil);
            End(FollowUpEnd.EndOfData, row.ObservedUntil);
            outcome[i] = Day(row.Outcome);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var dispensings = StudyPopulationSql.Dispensings(protocol.Strategies!, schemaName, source, purpose);
        var supply = (await reader.QueryAsync<(long I, bool Treatment, DateTime Start, DateTime SuppliedUntil)>(
                Command(dispensings.Sql, WithPopulation(dispensings.Parameters, ids, zeros), commandTimeoutSeconds, cancellationToken)))
            .GroupBy(r => (int)r.I - 1)
            .ToDictionary(g => g.Key, g => g.Select(r => new Dispensing(
                r.Treatment, DateOnly.FromDateTime(r.Start).DayNumber - zeros[g.Key].DayNumber, DateOnly.FromDateTime(r.SuppliedUntil).DayNumber - zeros[g.Key].DayNumber)).ToList());

        cancellationToken.ThrowIfCancellationRequested();
        var admissions = (await reader.QueryAsync<(long I, int Day)>(Command(
                AdmissionsSql(schemaName),
                [new SqlParameter("source", source), new SqlParameter("purpose", purpose), new SqlParameter("period_days", periodDays),
                    new SqlParameter("max_days", followUp.MaxDays), new SqlParameter("visit", InpatientVisit), new SqlParameter("person_ids", ids), new SqlParameter("time_zeros", zeros)],
                commandTimeoutSeconds, cancellationToken)))
            .GroupBy(r => (int)r.I - 1)
            .ToDictionary(g => g.Key, g => g.Select(r => r.Day).ToList());

        var gap = followUp.AllowedGapDays ?? StudyPopulationExtractor.DefaultAllowedGapDays;
        var rows = new List<PersonPeriodRow>();
        for (var i = 0; i < n; i++)
        {
            if (!consented[i])
            {
                // Consent withdrawn since the population was read: no rows (the statements never return the person).
                continue;
            }

            var own = supply.GetValueOrDefault(i) ?? [];
            var deviation = PerProtocolCensoring.LastDay(own, followUp.CensorAtSwitch, followUp.CensorAtDiscontinuation, gap, protocol.Strategies!.GracePeriodDays, members[i].Treated);
            rows.AddRange(Split(
                i, members[i].PersonId, members[i].Treated, Math.Max(0, last[i]), deviation, outcome[i], periodDays,
                admissions.GetValueOrDefault(i) ?? [], [.. own.Where(d => d.Treatment == members[i].Treated).Select(d => d.StartDay)]));
        }

        return new PersonPeriodData(periodDays, TimeVaryingNames, rows);
    }

    /// <summary>
    /// The periods of one member: followed to <paramref name="lastDay"/> (death, disenrollment, end of data, max days) or
    /// to <paramref name="deviationLastDay"/> (the last day on strategy) when that is earlier, or to the outcome when it
    /// comes first. A deviation censors at the end of the period it falls in (the member has no later period); an outcome
    /// on the last day on strategy counts. Covariates of period k: an admission on a day of period k − 1 (for period 0 the
    /// period before time zero) and a dispensing of the own strategy in period k − 1 (for period 0, the initiation: 1).
    /// </summary>
    public static IEnumerable<PersonPeriodRow> Split(
        int member, long personId, bool treated, int lastDay, int? deviationLastDay, int? outcomeDay, int periodDays,
        IReadOnlyCollection<int> admissionDays, IReadOnlyCollection<int> ownDispensingDays)
    {
        var end = deviationLastDay is { } dev ? Math.Min(lastDay, Math.Max(0, dev)) : lastDay;
        var deviated = deviationLastDay is { } d && d < lastDay;
        var hasEvent = outcomeDay is { } o && o >= 0 && o <= end;
        if (hasEvent)
        {
            end = outcomeDay!.Value;
            deviated = false;
        }

        var lastPeriod = end / periodDays;
        for (var k = 0; k <= lastPeriod; k++)
        {
            var from = k * periodDays;
            var before = from - periodDays;
            var admitted = admissionDays.Any(day => day >= before && day < from) ? 1.0 : 0.0;
            var filled = k == 0 || ownDispensingDays.Any(day => day >= before && day < from) ? 1.0 : 0.0;
            yield return new PersonPeriodRow(
                member, personId, treated, k, from, k == lastPeriod ? end : from + periodDays - 1,
                hasEvent && k == lastPeriod, deviated && k == lastPeriod, [admitted, filled]);
        }
    }

    private static string AdmissionsSql(string schemaName)
    {
        var schema = "\"" + Schema.SchemaName.Validate(schemaName) + "\"";
        return $"""
            WITH pop AS MATERIALIZED (
                SELECT p.i, p.person_id, p.tz
                FROM unnest(@person_ids::bigint[], @time_zeros::date[]) WITH ORDINALITY AS p(person_id, tz, i)
                JOIN {SubgroupCompiler.ConsentFilter} cp ON cp.person_id = p.person_id
            )
            SELECT pop.i, (v.visit_start_date - pop.tz) AS day
            FROM pop
            JOIN {schema}.visit_occurrence v ON v.person_id = pop.person_id
            WHERE v.visit_concept_id = @visit
              AND v.visit_start_date >= pop.tz - @period_days
              AND v.visit_start_date < pop.tz + @max_days
            ORDER BY pop.i, day
            """;
    }

    private static List<SqlParameter> WithPopulation(IReadOnlyList<SqlParameter> parameters, long[] ids, DateOnly[] zeros) =>
        [.. parameters, new SqlParameter("person_ids", ids), new SqlParameter("time_zeros", zeros)];

    private static CommandDefinition Command(string sql, IReadOnlyList<SqlParameter> parameters, int timeout, CancellationToken cancellationToken)
    {
        var dynamic = new DynamicParameters();
        foreach (var parameter in parameters)
        {
            dynamic.Add(parameter.Name, parameter.Value);
        }

        return new CommandDefinition(sql, dynamic, commandTimeout: timeout, cancellationToken: cancellationToken);
    }
}
