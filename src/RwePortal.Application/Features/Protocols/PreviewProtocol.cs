using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Privacy;
using RwePortal.Application.Security;
using RwePortal.Application.Tenancy;
using RwePortal.Warehouse;
using RwePortal.Warehouse.Protocols;

namespace RwePortal.Application.Features.Protocols;

/// <summary>
/// The outcome-blind cohort preview of a protocol (a draft with its strategies is enough) on a data source granted to
/// the current tenant for the purpose: persons per arm after each step of the strategies and eligibility, and the
/// distribution of time zero. Runs as the warehouse reader with the purpose's consent inside the statement; reads no
/// outcome information (the preview input has no outcome); every number leaves through the tenant's small-cell policy
/// (attrition counts with deterministic noise seeded by the compiled statement, the time-zero table with
/// complementary suppression); the query is on the audit trail with the statement's hash, parameters, purpose,
/// cohort size and duration.
/// </summary>
public static class PreviewProtocol
{
    [RequiresPermission(Permission.ViewProtocols)]
    public sealed record Query(string Source, string Protocol, string Purpose = DataPurposes.Research, TimeZeroBinning Binning = TimeZeroBinning.Year)
        : IRequest<Result<Response>>;

    public sealed record Response(
        string Source,
        string Purpose,
        string Treatment,
        string Comparator,
        IReadOnlyList<Step> Attrition,
        ProtectedCount RemovedByConsent,
        TimeZeroDistribution TimeZero,
        double DurationMs);

    /// <summary>
    /// Consented persons left after a step, per arm (<see cref="Both"/>: started both strategies within the grace
    /// period). A step the preview does not run (the prior-outcome exclusion, until approval) has <see cref="Applied"/>
    /// false and no counts.
    /// </summary>
    public sealed record Step(string Label, bool Applied, ProtectedCount? Treatment, ProtectedCount? Comparator, ProtectedCount? Both, ProtectedCount? Total);

    /// <summary>Time zero of the cohort per period and arm, protected as one table. <see cref="Withheld"/>: too few people to break down.</summary>
    public sealed record TimeZeroDistribution(TimeZeroBinning By, bool Withheld, IReadOnlyList<Bin> Bins, ProtectedCount Treatment, ProtectedCount Comparator, ProtectedCount Total);

    public sealed record Bin(string Period, ProtectedCount Treatment, ProtectedCount Comparator, ProtectedCount Total);

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Source).NotEmpty().MaximumLength(64);
            RuleFor(q => q.Protocol).NotEmpty().MaximumLength(ProtocolParser.MaxDocumentLength);
            RuleFor(q => q.Purpose).Must(DataPurposes.IsKnown).WithMessage($"Unknown purpose; use one of: {string.Join(", ", DataPurposes.All)}.");
            RuleFor(q => q.Binning).IsInEnum();
        }
    }

    internal sealed class Handler(TenantDbContextFactory contexts, WarehouseConnections warehouse, IAuditTrail audit)
        : IRequestHandler<Query, Result<Response>>
    {
        private static readonly string[] PreviewComponents = [ProtocolComponents.Strategies, ProtocolComponents.Eligibility, ProtocolComponents.TimeZero];

        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            // The preview needs valid strategies, eligibility and time zero; the rest of a draft may still be unfinished.
            var parsed = ProtocolParser.ParseDraft(request.Protocol);
            var blocking = parsed.IsValid ? parsed.Errors.Where(e => PreviewComponents.Contains(e.Component)).ToList() : parsed.Errors.ToList();
            var input = parsed.Protocol is { } protocol ? ProtocolPreviewInput.From(protocol) : null;
            if (blocking.Count > 0 || input is null)
            {
                return Error.Validation(blocking.Count > 0 ? blocking.Select(e => e.ToString()) : ["strategies: the preview needs the treatment strategies"]);
            }

            // The source as the current tenant sees it: only through its own grant, and only for a granted purpose.
            await using var db = await contexts.CreateAsync(cancellationToken);
            var granted = await GrantedDataSources.FindAsync(db, request.Source, request.Purpose, "Protocol.PurposeNotGranted", cancellationToken);
            if (!granted.Succeeded)
            {
                return granted.Error!;
            }

            var source = granted.Value!;
            var compiled = ProtocolPreviewer.Compile(input, source, request.Purpose, request.Binning);
            var result = await new ProtocolPreviewer(warehouse).PreviewAsync(input, source, request.Purpose, request.Binning, cancellationToken);

            // The compiled statement and its parameters are the query's canonical form: the same preview shows the same numbers.
            var canonical = compiled.Sql + "\n" + JsonSerializer.Serialize(compiled.Parameters.Select(p => new[] { p.Name, JsonSerializer.Serialize(p.Value) }));
            var policy = await SmallCellPolicies.ForAsync(db, cancellationToken);
            ProtectedCount Protect(long exact, string measure) => policy.Count(exact, QuerySeed.Of(canonical, source.Name, request.Purpose, measure));
            var attrition = result.Attrition.Select((step, i) => step.Remaining is { } r
                    ? new Step(step.Label, true, Protect(r.Treatment, $"step-{i}-treatment"), Protect(r.Comparator, $"step-{i}-comparator"),
                        Protect(r.Both, $"step-{i}-both"), Protect(r.Total, $"step-{i}-total"))
                    : new Step(step.Label, false, null, null, null, null))
                .ToList();

            // Periods × arms: a table, so that no small cell follows from the totals or its neighbours.
            var table = policy.ProtectTable(
                result.TimeZero.Select(b => (IReadOnlyList<long>)[b.Treatment, b.Comparator]).ToList(),
                QuerySeed.Of(canonical, source.Name, request.Purpose, "time-zero"));
            var bins = result.TimeZero.Select((b, row) => new Bin(b.Period, table[row, 0], table[row, 1], table.RowTotal(row))).ToList();
            var timeZero = result.TimeZero.Count == 0
                ? new TimeZeroDistribution(request.Binning, false, [], Protect(0, "tz-treatment"), Protect(0, "tz-comparator"), Protect(0, "tz-total"))
                : new TimeZeroDistribution(request.Binning, table.Withheld, bins, table.ColumnTotal(0), table.ColumnTotal(1), table.GrandTotal);
            var response = new Response(
                source.Name,
                request.Purpose,
                result.TreatmentLabel,
                result.ComparatorLabel,
                attrition,
                Protect(result.RemovedByConsent.Total, "removed-by-consent"),
                timeZero,
                Math.Round(result.Duration.TotalMilliseconds, 1));

            await audit.RecordWarehouseQueryAsync(
                Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(compiled.Sql))),
                new Dictionary<string, object?>
                {
                    ["source"] = source.Name,
                    ["purpose"] = request.Purpose,
                    ["query"] = "protocol preview",
                    ["values"] = compiled.Parameters.ToDictionary(p => p.Name, p => p.Value),
                },
                result.Cohort.Total,
                result.Duration,
                cancellationToken);
            return response;
        }
    }
}
