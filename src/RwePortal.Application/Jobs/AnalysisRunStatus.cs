namespace RwePortal.Application.Jobs;

/// <summary>Where a run is in its life (app.analysis_runs.status; the moves are in db/app/analyses.sql).</summary>
public static class AnalysisRunStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static IReadOnlyList<string> All { get; } = [Queued, Running, Succeeded, Failed, Cancelled];

    public static bool IsKnown(string status) => All.Contains(status, StringComparer.Ordinal);

    /// <summary>Statuses a run leaves only by a retry (or never, once succeeded).</summary>
    public static bool IsFinished(string status) => status is Succeeded or Failed or Cancelled;
}
