namespace RwePortal.Warehouse.Analyses;

/// <summary>A member of the study population: the person, the arm (true = treatment strategy) and time zero.</summary>
public sealed record PopulationMember(long PersonId, bool Treated, DateOnly TimeZero)
{
    public StudyPerson Person => new(PersonId, TimeZero);
}

/// <summary>One attrition step: the persons left in each arm after it (exact; callers protect them before showing).</summary>
public sealed record PopulationAttritionStep(string Label, long Treatment, long Comparator);

/// <summary>
/// Follow-up of one member for one outcome: <see cref="Days"/> at risk counting the day of time zero (an event on time
/// zero has 1 day, decision 1011) and whether the follow-up ended with the event.
/// </summary>
public readonly record struct FollowUpTime(int Days, bool Event);

/// <summary>A negative-control outcome: for each member, null when they had it before time zero (excluded for it), else their follow-up for it.</summary>
public sealed record NegativeControlFollowUp(long ConceptId, string Name, IReadOnlyList<FollowUpTime?> FollowUp);

/// <summary>A heterogeneity subgroup of the protocol: for each member, whether they belong to it at time zero.</summary>
public sealed record SubgroupMembershipFlags(string Name, IReadOnlyList<bool> Members);

/// <summary>
/// The study population of an approved protocol on a source for a purpose (exact numbers: the pipeline protects them):
/// the members in a stable order (person id), the attrition per arm from the first dispensing to the prior-outcome
/// exclusion, how many assignable persons with an index event consent removed (<see cref="RemovedByConsent"/>, per arm),
/// each member's follow-up for the outcome, for each negative control and their heterogeneity subgroups.
/// </summary>
public sealed record StudyPopulation(
    IReadOnlyList<PopulationMember> Members,
    IReadOnlyList<PopulationAttritionStep> Attrition,
    long RemovedByConsentTreatment,
    long RemovedByConsentComparator,
    IReadOnlyList<FollowUpTime> Outcome,
    IReadOnlyList<NegativeControlFollowUp> NegativeControls,
    IReadOnlyList<SubgroupMembershipFlags> Subgroups)
{
    public long RemovedByConsent => RemovedByConsentTreatment + RemovedByConsentComparator;

    public IReadOnlyList<StudyPerson> Persons => [.. Members.Select(m => m.Person)];
}
