namespace RwePortal.Warehouse.Analyses;

/// <summary>
/// One period of one member's per-protocol follow-up (decision 1090): period <see cref="Period"/> covers the days
/// <c>Period × length</c> to <c>(Period + 1) × length − 1</c> from time zero (time zero is day 0). A member has a row for
/// every period they start event-free and on their strategy, so having a row means being on strategy at its start.
/// <see cref="FirstDay"/> and <see cref="LastDay"/> are the days of the period the member is followed;
/// <see cref="Outcome"/>: the outcome on one of them; <see cref="CensoredAtEnd"/>: the member deviated (switch or
/// discontinuation) in this period and has no later row; <see cref="TimeVarying"/>: the time-varying covariates
/// measured in the period before (named by <see cref="PersonPeriodData.TimeVaryingNames"/>).
/// </summary>
public sealed record PersonPeriodRow(
    int Member,
    long PersonId,
    bool Treated,
    int Period,
    int FirstDay,
    int LastDay,
    bool Outcome,
    bool CensoredAtEnd,
    double[] TimeVarying);

/// <summary>The person-periods of a study population in member and period order (exact; callers protect every count).</summary>
public sealed record PersonPeriodData(int PeriodDays, IReadOnlyList<string> TimeVaryingNames, IReadOnlyList<PersonPeriodRow> Rows)
{
    /// <summary>Members who deviated from their strategy (their last row is censored).</summary>
    public int Deviations => Rows.Count(r => r.CensoredAtEnd);
}
