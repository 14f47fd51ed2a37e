using System.Data;
using Dapper;
using Npgsql;
using RwePortal.Warehouse.Cohorts;
using RwePortal.Warehouse.Protocols;

namespace RwePortal.Warehouse.Analyses;

/// <summary>
/// Reads the study population of a complete protocol from one source for one purpose (docs/analyses.md, decisions
/// 1010–1012): new users at time zero with the preview's attrition, then the prior-outcome exclusion; each member's
/// follow-up for the outcome (ITT, or per-protocol with censoring at a switch and at discontinuation), for each negative
/// control, and their heterogeneity subgroups. Over a connection of the read-only role the caller opened, inside the
/// caller's read-only transaction when there is one; the cancellation token goes to every statement.
/// </summary>
public static partial class StudyPopulationExtractor
{
    /// <summary>The attrition line of the prior-outcome exclusion.</summary>
    public const string PriorOutcomeStep = "no outcome before time zero";

    /// <summary>Days of a gap in supply allowed before a per-protocol member counts as discontinued, when the protocol gives none.</summary>
    public const int DefaultAllowedGapDays = 30;

    public static Task<StudyPopulation> ExtractAsync(
        NpgsqlConnection reader, string schemaName, string source, string purpose, ProtocolDefinition protocol, int commandTimeoutSeconds, CancellationToken cancellationToken) =>
        ExtractAsync(reader, schemaName, source, purpose, protocol, commandTimeoutSeconds, 2, null, cancellationToken);

    /// <summary>
    /// The same, calling <paramref name="membersKnown"/> with the members (in the population's order) as soon as the
    /// cohort statement has given them, while the follow-up ends, the subgroups and the negative controls are still being
    /// read: a caller can start work that needs only the members (the run's covariates, decision 1105). The callback
    /// must return quickly (start its work, not wait for it); it is not called when the cohort statement fails.
    /// </summary>
    public static Task<StudyPopulation> ExtractAsync(
        NpgsqlConnection reader, string schemaName, string source, string purpose, ProtocolDefinition protocol, int commandTimeoutSeconds,
        Action<IReadOnlyList<PopulationMember>> membersKnown, CancellationToken cancellationToken) =>
        ExtractAsync(reader, schemaName, source, purpose, protocol, commandTimeoutSeconds, 2, membersKnown, cancellationToken);

    internal static Task<StudyPopulation> ExtractAsync(
        NpgsqlConnection reader, string schemaName, string source, string purpose, ProtocolDefinition protocol, int commandTimeoutSeconds, int ways, CancellationToken cancellationToken) =>
        ExtractAsync(reader, schemaName, source, purpose, protocol, commandTimeoutSeconds, ways, null, cancellationToken);

    /// <summary>
    /// The same over at most <paramref name="ways"/> connections (1 or 2). With 2, and when the caller's connection is in a
    /// repeatable-read (or serializable) transaction, a second connection of the same role imports that transaction's
    /// snapshot and runs the statements that do not depend on the cohort (the heterogeneity subgroups, then the negative
    /// controls over the members) while the first runs the cohort and the follow-up ends (decision 1103). Otherwise, or
    /// when the snapshot cannot be shared, every statement runs on the caller's connection, one after another.
    /// </summary>
    private static async Task<StudyPopulation> ExtractAsync(
        NpgsqlConnection reader, string schemaName, string source, string purpose, ProtocolDefinition protocol, int commandTimeoutSeconds, int ways,
        Action<IReadOnlyList<PopulationMember>>? membersKnown, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentOutOfRangeException.ThrowIfLessThan(ways, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ways, 2);
        if (!protocol.IsComplete)
        {
            throw new ArgumentException("a run needs a complete protocol", nameof(protocol));
        }

        var second = ways == 2 ? await SharedSnapshotConnectionAsync(reader, cancellationToken) : null;
        try
        {
            var helper = second?.Connection ?? reader;
            var cohort = new TaskCompletionSource<(List<PopulationMember> Members, long[] Ids, DateOnly[] Zeros)>(TaskCreationOptions.RunContinuationsAsynchronously);

            // The eligibility criteria are statements of their own (decision 1105): on the second connection while the first
            // reads the cohort, or on the caller's before it.
            var statement = StudyPopulationSql.Cohort(protocol, schemaName, source, purpose, separateCriteria: true);
            var criteria = new TaskCompletionSource<HashSet<(long, DateOnly)>[]>(TaskCreationOptions.RunContinuationsAsynchronously);
            var heterogeneity = protocol.AnalysisPlan!.Heterogeneity;
            var subgroupSets = new List<(long, DateOnly)>[heterogeneity.Count];
            var pending = new System.Collections.Concurrent.ConcurrentQueue<int>(Enumerable.Range(0, heterogeneity.Count));

            async Task CriteriaAsync(NpgsqlConnection connection)
            {
                try
                {
                    var sets = new HashSet<(long, DateOnly)>[statement.SeparateCriteria.Count];
                    for (var k = 0; k < sets.Length; k++)
                    {
                        sets[k] = [.. await MembersAsync(connection, statement.SeparateCriteria[k].Members, commandTimeoutSeconds, cancellationToken)];
                    }

                    criteria.SetResult(sets);
                }
                catch (Exception e)
                {
                    criteria.TrySetException(e);
                    throw;
                }
            }

            // Each connection takes the next heterogeneity subgroup when it has nothing else to read.
            async Task SubgroupsAsync(NpgsqlConnection connection)
            {
                while (pending.TryDequeue(out var s))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var subgroup = heterogeneity[s];
                    var compiled = StudyPopulationSql.SubgroupMembers(protocol, subgroup.Criteria, subgroup.Name, schemaName, source, purpose);
                    subgroupSets[s] = await MembersAsync(connection, compiled, commandTimeoutSeconds, cancellationToken);
                }
            }

            async Task<(List<(long, DateOnly)>[] Subgroups, NegativeControlRows Controls)> Independent()
            {
                if (second is not null)
                {
                    await CriteriaAsync(helper);
                }

                await SubgroupsAsync(helper);
                var (_, ids, zeros) = await cohort.Task;
                var controls = await NegativeControlRowsAsync(helper, schemaName, source, purpose, protocol, ids, zeros, commandTimeoutSeconds, cancellationToken);
                return (subgroupSets, controls);
            }

            async Task<(List<PopulationMember> Members, List<PopulationAttritionStep> Attrition, long RemovedT, long RemovedC, Ends Ends)> Dependent()
            {
                try
                {
                    if (second is null)
                    {
                        await CriteriaAsync(reader);
                    }

                    var (members, attrition, removedT, removedC) = await CohortAsync(reader, statement, criteria.Task, protocol, commandTimeoutSeconds, cancellationToken);
                    var ids = members.Select(m => m.PersonId).ToArray();
                    var zeros = members.Select(m => m.TimeZero).ToArray();
                    cohort.SetResult((members, ids, zeros));
                    membersKnown?.Invoke(members);
                    var ends = await EndsAsync(reader, schemaName, source, purpose, protocol, members, ids, zeros, commandTimeoutSeconds, cancellationToken);
                    if (second is not null)
                    {
                        await SubgroupsAsync(reader);
                    }

                    return (members, attrition, removedT, removedC, ends);
                }
                catch (Exception e)
                {
                    cohort.TrySetException(e);
                    throw;
                }
            }

            (List<PopulationMember> Members, List<PopulationAttritionStep> Attrition, long RemovedT, long RemovedC, Ends Ends) first;
            (List<(long, DateOnly)>[] Subgroups, NegativeControlRows Controls) other;
            if (second is null)
            {
                first = await Dependent();
                other = await Independent();
            }
            else
            {
                var dependent = Task.Run(Dependent, cancellationToken);
                var independent = Task.Run(Independent, cancellationToken);
                try
                {
                    await Task.WhenAll(dependent, independent);
                }
                catch when (dependent.IsFaulted || dependent.IsCanceled)
                {
                    // The cohort's own failure is the one to report; the other task fails only because it waited for it.
                    await dependent;
                    throw;
                }

                first = dependent.Result;
                other = independent.Result;
                await second.Transaction.CommitAsync(cancellationToken);
            }

            var members = first.Members;
            var outcome = new FollowUpTime[members.Count];
            for (var i = 0; i < members.Count; i++)
            {
                // Time to the first outcome: the outcome ends each member's follow-up whether or not the protocol lists it.
                outcome[i] = first.Ends.Censoring[i].With(first.Ends.Outcome[i]);
            }

            var controls = NegativeControls(protocol, members, first.Ends.Censoring, other.Controls);
            var subgroups = new List<SubgroupMembershipFlags>();
            for (var s = 0; s < other.Subgroups.Length; s++)
            {
                var inSubgroup = other.Subgroups[s].ToHashSet();
                subgroups.Add(new SubgroupMembershipFlags(protocol.AnalysisPlan!.Heterogeneity[s].Name, [.. members.Select(m => inSubgroup.Contains((m.PersonId, m.TimeZero)))]));
            }

            return new StudyPopulation(members, first.Attrition, first.RemovedT, first.RemovedC, outcome, controls, subgroups);
        }
        finally
        {
            if (second is not null)
            {
                await second.DisposeAsync();
            }
        }
    }

    /// <summary>A second connection of the reader's role in a read-only transaction on the reader's snapshot, or null when the reader's transaction has no snapshot to share.</summary>
    private static async Task<SharedConnection?> SharedSnapshotConnectionAsync(NpgsqlConnection reader, CancellationToken cancellationToken)
    {
        // Only a repeatable-read or serializable transaction keeps one snapshot for all its statements; a read-committed
        // caller (or none) reads each statement on a fresh one, and the statements keep running on its connection.
        var isolation = await reader.ExecuteScalarAsync<string>(new CommandDefinition("SELECT current_setting('transaction_isolation')", cancellationToken: cancellationToken));
        if (isolation is not ("repeatable read" or "serializable"))
        {
            return null;
        }

        var snapshot = await reader.ExecuteScalarAsync<string>(new CommandDefinition("SELECT pg_export_snapshot()", cancellationToken: cancellationToken));
        if (snapshot is null || !SnapshotId().IsMatch(snapshot))
        {
            throw new InvalidOperationException($"unexpected snapshot identifier '{snapshot}'");
        }

        var connection = (NpgsqlConnection)((ICloneable)reader).Clone();
        NpgsqlTransaction? transaction = null;
        try
        {
            await connection.OpenAsync(cancellationToken);
            transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);

            // SET TRANSACTION SNAPSHOT takes no parameter; the identifier is the server's own, checked above.
            await connection.ExecuteAsync(new CommandDefinition($"SET TRANSACTION SNAPSHOT '{snapshot}'", transaction: transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition("SET TRANSACTION READ ONLY", transaction: transaction, cancellationToken: cancellationToken));
            return new SharedConnection(connection, transaction);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidParameterValue)
        {
            // The snapshot ended with its statement: the caller's connection is not inside a transaction block.
            if (transaction is not null)
            {
                await transaction.DisposeAsync();
            }

            await connection.DisposeAsync();
            return null;
        }
        catch
        {
            if (transaction is not null)
            {
                await transaction.DisposeAsync();
            }

            await connection.DisposeAsync();
            throw;
        }
    }

    private sealed record SharedConnection(NpgsqlConnection Connection, NpgsqlTransaction Transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Transaction.DisposeAsync();
            await Connection.DisposeAsync();
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[0-9A-F]+(-[0-9A-F]+)+$")]
    private static partial System.Text.RegularExpressions.Regex SnapshotId();

    /// <summary>The members of a compiled subgroup statement: (person, index date) of each consented member.</summary>
    private static async Task<List<(long, DateOnly)>> MembersAsync(NpgsqlConnection connection, CompiledSubgroup compiled, int timeout, CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync<(long PersonId, DateTime? IndexDate)>(Command(compiled.Sql, compiled.Parameters, timeout, cancellationToken));
        return [.. rows.Where(r => r.IndexDate is not null).Select(r => (r.PersonId, DateOnly.FromDateTime(r.IndexDate!.Value)))];
    }

    /// <summary>One row of the cohort statement: the person (when consented), time zero, consent, the arms' flags, each step's flag and the prior outcome.</summary>
    private sealed record CohortRow(long? PersonId, DateOnly IndexDate, bool Consented, bool T, bool C, bool?[] Flags, bool Prior);

    private static async Task<(List<PopulationMember> Members, List<PopulationAttritionStep> Attrition, long RemovedT, long RemovedC)> CohortAsync(
        NpgsqlConnection reader, StudyPopulationSql.CohortStatement statement, Task<HashSet<(long, DateOnly)>[]> separateCriteria, ProtocolDefinition protocol, int timeout, CancellationToken cancellationToken)
    {
        var steps = statement.Steps.Count + (protocol.Eligibility!.ExcludePriorOutcome is null ? 0 : 1);
        var counts = new long[steps, 2];
        long removedT = 0, removedC = 0;
        var members = new List<PopulationMember>();
        var cohortRows = new List<CohortRow>();
        await using (var rows = await reader.ExecuteReaderAsync(Command(statement.Sql, statement.Parameters, timeout, cancellationToken)))
        {
            while (await rows.ReadAsync(cancellationToken))
            {
                var read = new bool?[statement.FlagCount];
                for (var f = 0; f < read.Length; f++)
                {
                    read[f] = rows.IsDBNull(5 + f) ? null : rows.GetBoolean(5 + f);
                }

                cohortRows.Add(new CohortRow(
                    rows.IsDBNull(0) ? null : rows.GetInt64(0), rows.GetFieldValue<DateOnly>(1), rows.GetBoolean(2), rows.GetBoolean(3), rows.GetBoolean(4),
                    read, rows.GetBoolean(5 + statement.FlagCount)));
            }
        }

        // The criteria read beside the statement: fN is membership with the same index date, as the embedded EXISTS was.
        var sets = await separateCriteria;
        var flags = new bool[statement.FlagCount];
        foreach (var row in cohortRows)
        {
            var consented = row.Consented;
            var t = row.T;
            var c = row.C;
            if (t && c)
            {
                // Not assignable: started both within the grace period. Counted in the first line only, as in the preview.
                if (consented)
                {
                    counts[0, 0]++;
                }

                continue;
            }

            var arm = t ? 0 : 1;
            if (!consented)
            {
                if (t)
                {
                    removedT++;
                }
                else
                {
                    removedC++;
                }

                continue;
            }

            counts[0, arm]++;
            counts[1, arm]++;
            var person = row.PersonId!.Value;
            for (var f = 0; f < flags.Length; f++)
            {
                flags[f] = row.Flags[f] ?? false;
            }

            for (var k = 0; k < sets.Length; k++)
            {
                flags[statement.SeparateCriteria[k].Flag - 1] = sets[k].Contains((person, row.IndexDate));
            }

            var ok = true;
            for (var f = 0; f < flags.Length; f++)
            {
                ok &= flags[f];
                if (ok)
                {
                    counts[2 + f, arm]++;
                }
            }

            if (protocol.Eligibility.ExcludePriorOutcome is not null)
            {
                ok &= !row.Prior;
                if (ok)
                {
                    counts[steps - 1, arm]++;
                }
            }

            if (ok)
            {
                members.Add(new PopulationMember(person, t, row.IndexDate));
            }
        }

        // The first line counts the persons who started both too (as the preview shows it); the grace-period line removes them.
        var labels = statement.Steps.ToList();
        if (protocol.Eligibility.ExcludePriorOutcome is { } exclusion)
        {
            labels.Add(exclusion.LookbackDays is { } days ? $"{PriorOutcomeStep} (within {days} days)" : PriorOutcomeStep);
        }

        var attrition = labels.Select((label, i) => new PopulationAttritionStep(label, counts[i, 0], counts[i, 1])).ToList();
        members.Sort((a, b) => a.PersonId.CompareTo(b.PersonId));
        return (members, attrition, removedT, removedC);
    }

    /// <summary>The last day (from time zero) each member is followed for any outcome, and the day of their first outcome.</summary>
    private sealed record Ends(Censoring[] Censoring, int?[] Outcome);

    /// <summary>The last day of follow-up (0 = time zero) before any outcome.</summary>
    private readonly record struct Censoring(int LastDay)
    {
        public FollowUpTime With(int? eventDay) =>
            eventDay is { } day && day <= LastDay ? new FollowUpTime(day + 1, true) : new FollowUpTime(LastDay + 1, false);
    }

    private static async Task<Ends> EndsAsync(
        NpgsqlConnection reader, string schemaName, string source, string purpose, ProtocolDefinition protocol, List<PopulationMember> members, long[] ids, DateOnly[] zeros, int timeout, CancellationToken cancellationToken)
    {
        var followUp = protocol.FollowUp!;
        var last = new int[ids.Length];
        Array.Fill(last, followUp.MaxDays - 1);
        var outcome = new int?[ids.Length];
        var statement = StudyPopulationSql.FollowUp(protocol, schemaName, source, purpose);
        var rows = await reader.QueryAsync<(long I, DateTime? Death, DateTime? EnrolledUntil, DateTime? ObservedUntil, DateTime? Outcome)>(
            Command(statement.Sql, WithPopulation(statement.Parameters, ids, zeros), timeout, cancellationToken));
        foreach (var row in rows)
        {
            var i = (int)row.I - 1;
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

        if (protocol.Contrast!.Type == ContrastType.PerProtocol && (followUp.CensorAtSwitch || followUp.CensorAtDiscontinuation))
        {
            var dispensings = StudyPopulationSql.Dispensings(protocol.Strategies!, schemaName, source, purpose);
            var supply = await reader.QueryAsync<(long I, bool Treatment, DateTime Start, DateTime SuppliedUntil)>(
                Command(dispensings.Sql, WithPopulation(dispensings.Parameters, ids, zeros), timeout, cancellationToken));
            var byMember = supply.GroupBy(r => (int)r.I - 1);
            var gap = followUp.AllowedGapDays ?? DefaultAllowedGapDays;
            foreach (var member in byMember)
            {
                var i = member.Key;
                var censor = PerProtocolCensoring.LastDay(
                    member.Select(r => new Dispensing(
                        r.Treatment, DateOnly.FromDateTime(r.Start).DayNumber - zeros[i].DayNumber, DateOnly.FromDateTime(r.SuppliedUntil).DayNumber - zeros[i].DayNumber)),
                    followUp.CensorAtSwitch,
                    followUp.CensorAtDiscontinuation,
                    gap,
                    protocol.Strategies!.GracePeriodDays,
                    members[i].Treated);
                if (censor is { } day)
                {
                    last[i] = Math.Min(last[i], day);
                }
            }
        }

        return new Ends([.. last.Select(d => new Censoring(Math.Max(0, d)))], outcome);
    }

    /// <summary>The negative controls' names and their rows per member (row index, concept): first occurrence after time zero and any before.</summary>
    private sealed record NegativeControlRows(Dictionary<long, string> Names, Dictionary<(int, long), (long I, long Nco, DateTime? FirstAfter, bool Before)> Found);

    private static async Task<NegativeControlRows> NegativeControlRowsAsync(
        NpgsqlConnection reader, string schemaName, string source, string purpose, ProtocolDefinition protocol, long[] ids, DateOnly[] zeros, int timeout, CancellationToken cancellationToken)
    {
        var concepts = protocol.AnalysisPlan!.NegativeControlOutcomes;
        if (concepts.Count == 0)
        {
            return new NegativeControlRows([], []);
        }

        var names = (await reader.QueryAsync<(long Id, string Name)>(Command(
                StudyPopulationSql.ConceptNames(schemaName), [new SqlParameter("ids", concepts.Select(c => (long)c).ToArray())], timeout, cancellationToken)))
            .ToDictionary(r => r.Id, r => r.Name);
        var statement = StudyPopulationSql.NegativeControls(concepts, schemaName, source, purpose);
        var rows = await reader.QueryAsync<(long I, long Nco, DateTime? FirstAfter, bool Before)>(
            Command(statement.Sql, WithPopulation(statement.Parameters, ids, zeros), timeout, cancellationToken));
        return new NegativeControlRows(names, rows.ToDictionary(r => ((int)r.I - 1, r.Nco)));
    }

    private static IReadOnlyList<NegativeControlFollowUp> NegativeControls(ProtocolDefinition protocol, List<PopulationMember> members, Censoring[] censoring, NegativeControlRows rows)
    {
        var concepts = protocol.AnalysisPlan!.NegativeControlOutcomes;
        if (concepts.Count == 0)
        {
            return [];
        }

        var (names, found) = (rows.Names, rows.Found);
        return [.. concepts.Distinct().Select(concept =>
        {
            var followUp = new FollowUpTime?[members.Count];
            for (var i = 0; i < members.Count; i++)
            {
                if (found.TryGetValue((i, concept), out var row))
                {
                    followUp[i] = row.Before
                        ? null
                        : censoring[i].With(row.FirstAfter is { } d ? DateOnly.FromDateTime(d).DayNumber - Zero(i) : null);
                }
                else
                {
                    followUp[i] = censoring[i].With(null);
                }
            }

            return new NegativeControlFollowUp(concept, names.GetValueOrDefault(concept, "concept " + concept), followUp);
        })];

        int Zero(int i) => members[i].TimeZero.DayNumber;
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

/// <summary>A dispensing of either strategy relative to time zero: whose it is, its first day and the last day its supply covers.</summary>
public readonly record struct Dispensing(bool Treatment, int StartDay, int SuppliedUntilDay);

/// <summary>
/// Per-protocol censoring (decision 1011): a member is followed while on their own strategy. A switch is the first
/// dispensing of the other strategy after the grace period: follow-up ends the day before it. Discontinuation is a gap
/// in the own strategy's supply longer than the allowed gap: follow-up ends on the last supplied day plus the allowed gap.
/// </summary>
public static class PerProtocolCensoring
{
    /// <summary>The last day of follow-up the strategy allows, or null when neither rule ends it; <paramref name="treated"/> is the member's own strategy.</summary>
    public static int? LastDay(IEnumerable<Dispensing> dispensings, bool atSwitch, bool atDiscontinuation, int allowedGapDays, int gracePeriodDays, bool treated)
    {
        var all = dispensings.OrderBy(d => d.StartDay).ThenBy(d => d.SuppliedUntilDay).ToList();
        int? last = null;
        var switched = all.Where(d => d.Treatment != treated && d.StartDay > gracePeriodDays).Select(d => (int?)d.StartDay).FirstOrDefault();
        if (atSwitch && switched is { } day)
        {
            last = day - 1;
        }

        if (atDiscontinuation)
        {
            var supplied = -1;
            var started = false;
            foreach (var d in all.Where(d => d.Treatment == treated))
            {
                if (started && d.StartDay > supplied + allowedGapDays + 1)
                {
                    break;
                }

                started = true;
                supplied = Math.Max(supplied, d.SuppliedUntilDay);
            }

            if (started)
            {
                var discontinued = supplied + allowedGapDays;
                last = last is { } l ? Math.Min(l, discontinued) : discontinued;
            }
        }

        return last;
    }
}
