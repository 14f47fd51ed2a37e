namespace RwePortal.Application.Jobs;

/// <summary>How the analysis run worker claims and keeps runs (configuration section <c>AnalysisWorker</c>).</summary>
public sealed class AnalysisWorkerOptions
{
    public const string Section = "AnalysisWorker";

    /// <summary>Whether this process runs analyses; a portal beside a separate `rwe worker` may turn its own off.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Runs at a time in this process (a run uses a core for most of its time).</summary>
    public int Concurrency { get; set; } = 1;

    /// <summary>How long a claim holds without a heartbeat; after it another worker takes the run as its next attempt.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often a running run's lease is renewed and its cancel request read (and at every progress line).</summary>
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often an idle worker looks for queued runs when no notification woke it.</summary>
    public TimeSpan Poll { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Attempts a run gets when its workers die; after the last it fails with Run.WorkerLost (retryable).</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Names this process's workers in the run table (host and process id by default).</summary>
    public string Name { get; set; } = $"{Environment.MachineName}:{Environment.ProcessId}";
}
