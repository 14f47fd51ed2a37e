using RwePortal.Warehouse.Protocols;

namespace RwePortal.Application.Analyses;

/// <summary>The steps of a run, in order; progress is reported by step.</summary>
public enum AnalysisStep
{
    Cohort,
    Covariates,
    Propensity,
    Weights,
    Balance,
    Outcomes,
    Subgroups,
    Calibration,
}

/// <summary>Where a run is: the step it is in, a line for the reader, and the fraction of that step done when known.</summary>
public sealed record AnalysisProgress(AnalysisStep Step, string Message, double? Fraction = null);

/// <summary>
/// What a run needs: the approved protocol version (parsed) and its content hash, the registered source, the purpose its
/// consent is judged for, the random seed (cross-validation folds, matching order) and the small-cell policy the counts
/// of the result pass through.
/// </summary>
public sealed record ProtocolRunInput(
    ProtocolDefinition Protocol,
    int ProtocolVersion,
    string ProtocolHash,
    string Source,
    string Purpose,
    int Seed,
    Common.SmallCellPolicy Policy);

/// <summary>
/// Facts of the run for its reproducibility record: when the source was last loaded, how many persons consent removed
/// from the study population (protected), and the versions of the code and packages that computed it.
/// </summary>
public sealed record RunFacts(
    DateTimeOffset? SourceLoadedAt,
    Shown RemovedByConsent,
    string CodeVersion,
    IReadOnlyDictionary<string, string> PackageVersions);

/// <summary>A finished run: the result document and its facts.</summary>
public sealed record ProtocolRunOutput(AnalysisResultDocument Result, RunFacts Facts);

/// <summary>
/// The whole analysis of one protocol version on one source, from the warehouse (read as rwe_reader, consent inside every
/// statement) to the result document. The portal's job worker and `rwe run-protocol` run this same pipeline.
/// Throws <see cref="OperationCanceledException"/> when cancelled; expected failures (an empty arm, no outcome events)
/// are <see cref="ProtocolRunFailedException"/> with a stable code.
/// </summary>
public interface IProtocolRunPipeline
{
    Task<ProtocolRunOutput> RunAsync(ProtocolRunInput input, IProgress<AnalysisProgress> progress, CancellationToken cancellationToken);
}

/// <summary>A run that cannot produce a result for a reason the reader should see (code e.g. "Run.ArmEmpty", "Run.NoEvents").</summary>
public sealed class ProtocolRunFailedException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
