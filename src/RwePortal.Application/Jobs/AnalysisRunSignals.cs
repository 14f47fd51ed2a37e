namespace RwePortal.Application.Jobs;

/// <summary>
/// In-process news of runs: raised for every change PostgreSQL announces on the <c>rwe_analysis_runs</c> channel (the
/// run's id only), whichever process made it. Pages watching a run subscribe and re-read it through the slices as their
/// own user; idle workers wake on it to claim a new run.
/// </summary>
public sealed class AnalysisRunSignals
{
    /// <summary>A run changed (queued, claimed, progressed, cancelled, finished). Handlers must be quick and must not throw.</summary>
    public event Action<Guid>? Changed;

    public void Raise(Guid runId) => Changed?.Invoke(runId);
}
