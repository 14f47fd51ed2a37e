using FluentValidation;
using MediatR;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Consent;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Consent;

/// <summary>
/// Imports an uploaded consent CSV for a source through <see cref="ConsentImporter"/>: the whole file is validated
/// first and applied in one transaction, or rejected with every error (line, column, reason) and nothing applied.
/// Only the source's custodian may import; the rows are written under row-level security for that tenant.
/// </summary>
public static class ImportConsent
{
    /// <summary>Uploads larger than this are refused before parsing (about 400,000 lines).</summary>
    public const long MaxFileBytes = 20 * 1024 * 1024;

    [RequiresPermission(Permission.ManageConsent)]
    public sealed record Command(string Source, string FileName, ReadOnlyMemory<byte> Content) : IRequest<Result<ConsentImportResult>>, IAuditTarget
    {
        public string AuditTarget => $"{Source} file {FileName}";
    }

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.Source).NotEmpty().MaximumLength(64);
            RuleFor(c => c.FileName).NotEmpty().MaximumLength(255);
            RuleFor(c => c.Content.Length).GreaterThan(0).WithMessage("The file is empty.")
                .LessThanOrEqualTo((int)MaxFileBytes).WithMessage($"The file is larger than {MaxFileBytes / (1024 * 1024)} MB.");
        }
    }

    internal sealed class Handler(ConsentImporter importer, ICurrentUser currentUser, ConsentSourceAccess access, IAuditTrail audit) : IRequestHandler<Command, Result<ConsentImportResult>>
    {
        public async Task<Result<ConsentImportResult>> Handle(Command request, CancellationToken cancellationToken)
        {
            var custodian = await access.RequireCustodianAsync(request.Source, cancellationToken);
            if (!custodian.Succeeded)
            {
                return custodian.Error!;
            }

            var user = await currentUser.GetAsync(cancellationToken);
            using var stream = new MemoryStream(request.Content.ToArray(), writable: false);
            return await importer.ImportAsync(
                request.Source, stream, request.FileName, audit.RecordChangeAsync, user.Email, custodian.Value!.CustodianTenantId, cancellationToken);
        }
    }
}
