using System.Globalization;
using FluentValidation;
using MediatR;
using RwePortal.Application.Analyses;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Jobs;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Analyses;

/// <summary>
/// Two runs side by side: each run's header, arms, estimates and diagnostics, and the inputs in which they differ
/// (protocol version and hash, source and its load time, consent day and persons removed, code version, seed, packages),
/// so a reader can tell why two estimates disagree, or that they should not.
/// </summary>
public static class CompareAnalysisRuns
{
    [RequiresPermission(Permission.ViewAnalyses)]
    public sealed record Query(Guid Left, Guid Right) : IRequest<Result<Response>>;

    /// <summary>One run of the comparison; the result parts are null until it succeeded.</summary>
    public sealed record Side(
        Guid RunId,
        string ProtocolTitle,
        int ProtocolVersion,
        string Source,
        string Purpose,
        string Status,
        DateTimeOffset? FinishedAt,
        ArmSummary? Arms,
        EffectEstimates? Estimates,
        DiagnosticsReport? Diagnostics,
        RunReproducibility Reproducibility,
        AnalysisHeader? Header = null);

    /// <summary>One input of both runs as shown; <see cref="Differs"/> when they are not the same.</summary>
    public sealed record InputDifference(string Input, string? Left, string? Right, bool Differs);

    public sealed record Response(Side Left, Side Right, IReadOnlyList<InputDifference> Inputs)
    {
        /// <summary>Whether the two runs had the same inputs (and so should show the same numbers).</summary>
        public bool SameInputs => Inputs.All(i => !i.Differs);
    }

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Left).NotEmpty();
            RuleFor(q => q.Right).NotEmpty();
        }
    }

    internal sealed class Handler(TenantDbContextFactory contexts) : IRequestHandler<Query, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            await using var db = await contexts.CreateAsync(cancellationToken);
            var left = await AnalysisRunStore.FindAsync(db, request.Left, cancellationToken);
            var right = await AnalysisRunStore.FindAsync(db, request.Right, cancellationToken);
            if (left is null || right is null)
            {
                return AnalysisRunErrors.NotFound();
            }

            var a = left.ReproducibilityRecord();
            var b = right.ReproducibilityRecord();
            var inputs = new List<InputDifference>
            {
                Input("protocol", left.ProtocolId.ToString(), right.ProtocolId.ToString()),
                Input("protocol version", a.ProtocolVersion.ToString(CultureInfo.InvariantCulture), b.ProtocolVersion.ToString(CultureInfo.InvariantCulture)),
                Input("protocol hash", a.ProtocolHash, b.ProtocolHash),
                Input("source", a.Source, b.Source),
                Input("purpose", a.Purpose, b.Purpose),
                Input("source loaded at", a.SourceLoadedAt?.ToString("O", CultureInfo.InvariantCulture), b.SourceLoadedAt?.ToString("O", CultureInfo.InvariantCulture)),
                Input("consent as of", a.ConsentAsOf?.ToString("O", CultureInfo.InvariantCulture), b.ConsentAsOf?.ToString("O", CultureInfo.InvariantCulture)),
                Input("removed by consent", a.RemovedByConsent?.Display, b.RemovedByConsent?.Display),
                Input("code version", a.CodeVersion, b.CodeVersion),
                Input("seed", a.Seed.ToString(CultureInfo.InvariantCulture), b.Seed.ToString(CultureInfo.InvariantCulture)),
                Input("packages", Packages(a), Packages(b)),
            };
            return new Response(SideOf(left, a), SideOf(right, b), inputs);
        }

        private static InputDifference Input(string name, string? left, string? right) => new(name, left, right, !string.Equals(left, right, StringComparison.Ordinal));

        private static string? Packages(RunReproducibility record) => record.PackageVersions.Count == 0
            ? null
            : string.Join(", ", record.PackageVersions.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}"));

        private static Side SideOf(AnalysisRunRow run, RunReproducibility record)
        {
            var result = AnalysisRunJson.Result(run.Result);
            return new Side(
                run.Id, run.ProtocolTitle, run.ProtocolVersion, run.Source, run.Purpose, run.Status, AnalysisRunRow.Utc(run.FinishedAt),
                result?.Arms, result?.Estimates, result?.Diagnostics, record, result?.Header);
        }
    }
}
