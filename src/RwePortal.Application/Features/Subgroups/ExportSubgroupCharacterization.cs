using FluentValidation;
using MediatR;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Privacy;
using RwePortal.Application.Security;
using RwePortal.Application.Tenancy;
using RwePortal.Warehouse;
using RwePortal.Warehouse.Cohorts;

namespace RwePortal.Application.Features.Subgroups;

/// <summary>
/// A subgroup's Table 1 (or, with <see cref="Query.CompareWith"/>, the comparison of two subgroups with standardized
/// differences) as a CSV file: one line per row, the protected numbers only — each count as the number shown (empty
/// when hidden) and as shown ("&lt;11", "—", "~1,230"), statistics only where their count is shown. The queries behind
/// it are audited as the characterization's are.
/// </summary>
public static class ExportSubgroupCharacterization
{
    public const string ContentType = "text/csv";

    [RequiresPermission(Permission.ViewSubgroups)]
    public sealed record Query(string Source, string Definition, string? CompareWith, string Purpose) : IRequest<Result<File>>;

    public sealed record File(string FileName, string ContentType, byte[] Content);

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Source).NotEmpty().MaximumLength(64);
            RuleFor(q => q.Definition).NotEmpty().MaximumLength(SubgroupDefinitionParser.MaxDocumentLength);
            RuleFor(q => q.CompareWith).MaximumLength(SubgroupDefinitionParser.MaxDocumentLength);
            RuleFor(q => q.Purpose).Must(DataPurposes.IsKnown).WithMessage($"Unknown purpose; use one of: {string.Join(", ", DataPurposes.All)}.");
        }
    }

    internal sealed class Handler(TenantDbContextFactory contexts, WarehouseConnections warehouse, IAuditTrail audit, SubgroupReferences references)
        : IRequestHandler<Query, Result<File>>
    {
        public async Task<Result<File>> Handle(Query request, CancellationToken cancellationToken)
        {
            // The one place the definitions are read (saved subgroups and concept sets resolve here too).
            var a = await references.ResolveAsync(request.Definition, cancellationToken);
            var b = string.IsNullOrWhiteSpace(request.CompareWith) ? null : await references.ResolveAsync(request.CompareWith, cancellationToken);
            if (!a.Succeeded || b is { Succeeded: false })
            {
                return Error.Validation(new[] { a.Error?.Message, b?.Error is { } eb ? "compared with: " + eb.Message : null }.OfType<string>());
            }

            await using var db = await contexts.CreateAsync(cancellationToken);
            var granted = await SubgroupCharacterizations.GrantedSourceAsync(db, request.Source, request.Purpose, cancellationToken);
            if (!granted.Succeeded)
            {
                return granted.Error!;
            }

            var source = granted.Value!;
            var policy = await SmallCellPolicies.ForAsync(db, cancellationToken);
            var name = new string(source.Name.Where(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-').ToArray());
            if (b is null)
            {
                var characterization = await SubgroupCharacterizations.RunAsync(warehouse, audit, a.Value!.Definition, source, request.Purpose, include: null, cancellationToken);
                var table = SubgroupCharacterizations.Protect(characterization, policy, SubgroupCharacterizations.Canonical(a.Value!.Definition, source, request.Purpose));
                return new File($"table1-{name}-{request.Purpose}.csv", ContentType, Csv(table));
            }

            var (tableA, tableB, rows) = await SubgroupCharacterizations.CompareAsync(
                warehouse, audit, policy, source, a.Value!.Definition, b.Value!.Definition, request.Purpose, cancellationToken);
            return new File($"comparison-{name}-{request.Purpose}.csv", ContentType, Csv(tableA, tableB, rows));
        }
    }

    private static readonly string[] Side = ["count", "count_shown", "percent", "n", "n_shown", "mean", "sd", "p25", "median", "p75"];

    internal static byte[] Csv(SubgroupTable1 table) => CsvFiles.Write(
        ["section", "section_title", "row_key", "label", .. Side, "unit"],
        [
            ["persons", "Persons", "persons", "Persons", .. Cells(new Table1Row("persons", "Persons", table.Persons, null, null)), null],
            .. table.Sections.SelectMany(s => s.Rows.Select(r => (object?[])[s.Key, s.Title, r.Key, r.Label, .. Cells(r), r.Distribution?.Unit])),
        ]);

    internal static byte[] Csv(SubgroupTable1 a, SubgroupTable1 b, IReadOnlyList<ComparisonRow> rows)
    {
        var titles = a.Sections.ToDictionary(s => s.Key, s => s.Title);
        return CsvFiles.Write(
            ["section", "section_title", "row_key", "label", .. Side.Select(c => "a_" + c), .. Side.Select(c => "b_" + c), "unit", "smd"],
            [
                ["persons", "Persons", "persons", "Persons", .. Cells(new Table1Row("persons", "Persons", a.Persons, null, null)),
                    .. Cells(new Table1Row("persons", "Persons", b.Persons, null, null)), null, null],
                .. rows.Select(r => (object?[])[r.SectionKey, titles[r.SectionKey], r.RowKey, r.Label, .. Cells(r.A), .. Cells(r.B),
                    r.A?.Distribution?.Unit ?? r.B?.Distribution?.Unit, r.Smd]),
            ]);
    }

    private static object?[] Cells(Table1Row? row) =>
    [
        row?.Count?.Value, row?.Count?.Display, row?.Percent,
        row?.Distribution?.N.Value, row?.Distribution?.N.Display,
        row?.Distribution?.Mean, row?.Distribution?.Sd, row?.Distribution?.P25, row?.Distribution?.Median, row?.Distribution?.P75,
    ];
}
