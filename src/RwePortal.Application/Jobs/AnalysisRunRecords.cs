using RwePortal.Application.Analyses;

namespace RwePortal.Application.Jobs;

/// <summary>How long a step of a run took: started, finished (null while it runs) and seconds.</summary>
public sealed record RunStepTiming(string Step, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt)
{
    public double? Seconds => FinishedAt is { } end ? Math.Round((end - StartedAt).TotalSeconds, 3) : null;
}

/// <summary>Why a run failed: a stable code (e.g. <c>Run.ArmEmpty</c>, <c>Run.WorkerLost</c>) and a line for the reader.</summary>
public sealed record RunError(string Code, string Message);

/// <summary>
/// What a run was computed from, so that anyone can tell whether two runs should agree: the protocol version and its
/// content hash, the source and when it was last loaded, the day consent was judged on and how many persons it removed
/// (protected), the code version (git commit), the random seed and the versions of the packages that computed it.
/// The facts the pipeline reports (load time, consent removed, code and package versions) are null until the run succeeded.
/// </summary>
public sealed record RunReproducibility(
    int ProtocolVersion,
    string ProtocolHash,
    string Source,
    string Purpose,
    int Seed,
    DateTimeOffset? SourceLoadedAt,
    DateOnly? ConsentAsOf,
    Shown? RemovedByConsent,
    string? CodeVersion,
    IReadOnlyDictionary<string, string> PackageVersions);

/// <summary>The facts of a finished run as stored in app.analysis_runs.reproducibility.</summary>
internal sealed record StoredRunFacts(
    DateTimeOffset? SourceLoadedAt,
    DateOnly ConsentAsOf,
    Shown RemovedByConsent,
    string CodeVersion,
    IReadOnlyDictionary<string, string> PackageVersions);
