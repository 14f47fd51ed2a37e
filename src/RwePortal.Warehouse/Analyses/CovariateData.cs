namespace RwePortal.Warehouse.Analyses;

/// <summary>A member of a study population: the person and the day of their time zero (row order is the analysis's row order).</summary>
public sealed record StudyPerson(long PersonId, DateOnly TimeZero);

/// <summary>
/// One covariate of the baseline covariate set, as FeatureExtraction describes them: a stable id within the extraction, a
/// readable name ("condition: Heart failure [316139], 365 days before"), the analysis (group) it belongs to
/// ("condition 365d", "demographics", "measurement latest", ...), whether it is binary (0/1) or continuous, and the
/// concept it was built from when there is one.
/// </summary>
public sealed record CovariateRef(int Id, string Name, string Group, bool Binary, long? ConceptId);

/// <summary>
/// The baseline covariates of a study population in the sparse triplet form FeatureExtraction uses: entry k says that
/// person <see cref="Rows"/>[k] (an index into the population) has covariate <see cref="Covariates"/>[k] (an id of
/// <see cref="Refs"/>) with value <see cref="Values"/>[k]. Absent entries are 0. Every value comes from data recorded
/// strictly before the person's time zero (windows end the day before it).
/// </summary>
public sealed record CovariateData(IReadOnlyList<CovariateRef> Refs, int[] Rows, int[] Covariates, double[] Values)
{
    public int Entries => Rows.Length;
}
