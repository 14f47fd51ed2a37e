using System.Globalization;
using System.Text;
using FluentValidation;
using MediatR;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Audit;

/// <summary>
/// The filtered audit trail as CSV (UTF-8, RFC 4180), newest first, at most <see cref="MaxRows"/> events (served as a file by
/// the portal's export endpoint; narrow the filter for more). The export
/// is itself recorded as an Export event with its filter and row count.
/// </summary>
public static class ExportAuditEvents
{
    public const int MaxRows = 20_000;

    private const int ExportTimeoutSeconds = 120;

    [RequiresPermission(Permission.ViewAudit)]
    public sealed record Query(AuditEventFilter Filter) : IRequest<Result<Response>>;

    public sealed record Response(string FileName, byte[] Content, int Rows, bool Truncated);

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Filter).NotNull();
            RuleFor(q => q.Filter.EventType).Must(t => t is null || AuditEventTypes.All.Contains(t)).WithMessage("Unknown event type.");
            RuleFor(q => q.Filter.User).MaximumLength(256);
            RuleFor(q => q.Filter.Target).MaximumLength(256);
        }
    }

    internal sealed class Handler(AppSqlConnections connections, ICurrentUser currentUser, IAuditTrail auditTrail)
        : IRequestHandler<Query, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            var user = await currentUser.GetAsync(cancellationToken);
            IReadOnlyList<AuditEventView> rows;
            await using (var trail = await AuditEventReader.OpenAsync(connections, user, cancellationToken))
            {
                rows = await trail.FindAsync(request.Filter, MaxRows + 1, 0, ExportTimeoutSeconds, cancellationToken);
            }

            var truncated = rows.Count > MaxRows;
            var events = rows.Take(MaxRows).ToList();
            var csv = new StringBuilder();
            csv.Append("id,occurred_at,tenant_id,tenant,user_email,event_type,target,outcome,details\r\n");
            foreach (var e in events)
            {
                csv.AppendJoin(
                    ',',
                    e.Id.ToString(CultureInfo.InvariantCulture),
                    e.OccurredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
                    e.TenantId?.ToString("D") ?? "",
                    Cell(e.TenantName),
                    Cell(e.UserEmail),
                    Cell(e.EventType),
                    Cell(e.Target),
                    Cell(e.Outcome),
                    Cell(e.Details)).Append("\r\n");
            }

            await auditTrail.RecordAsync(
                new AuditRecord(AuditEventTypes.Export, "audit trail", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["rows"] = events.Count,
                    ["truncated"] = truncated,
                    ["from"] = request.Filter.From?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    ["to"] = request.Filter.To?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    ["user"] = request.Filter.User,
                    ["event_type"] = request.Filter.EventType,
                    ["target"] = request.Filter.Target,
                }),
                cancellationToken);

            var fileName = $"audit-{DateTime.UtcNow:yyyyMMdd-HHmmss}.csv";
            return new Response(fileName, Encoding.UTF8.GetBytes(csv.ToString()), events.Count, truncated);
        }

        /// <summary>
        /// Quotes a field when needed and defuses spreadsheet formulas: text typed by anyone (a failed sign-in's email)
        /// must not run as a formula when an auditor opens the file.
        /// </summary>
        private static string Cell(string? value)
        {
            if (string.IsNullOrEmpty(value))
            {
                return "";
            }

            if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
            {
                value = "'" + value;
            }

            return value.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
        }
    }
}
