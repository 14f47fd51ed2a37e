using RwePortal.Application.Common;

namespace RwePortal.Application.Features.Analyses;

/// <summary>The stable refusals of the run slices.</summary>
internal static class AnalysisRunErrors
{
    /// <summary>No such run in the current tenant (another tenant's run answers the same).</summary>
    public static Error NotFound() => new("Run.NotFound", "The analysis run was not found.");

    public static Error NotApproved(int version, string state) =>
        new("Run.NotApproved", $"Version {version} is {state}: only the approved version of a protocol is run.");

    public static Error SourceNotGranted(string source, string purpose) =>
        new("Run.SourceNotGranted", $"{source} is not granted to this tenant for {purpose}.");

    public static Error NotCancellable(string status) =>
        new("Run.NotCancellable", $"The run is {status}: only a queued or running run can be cancelled.");

    public static Error NotRetryable(string status) =>
        new("Run.NotRetryable", $"The run is {status}: only a failed or cancelled run is retried.");

    public static Error NoResult(string status) =>
        new("Run.NoResult", $"The run is {status}: only a succeeded run has a result to export.");
}
