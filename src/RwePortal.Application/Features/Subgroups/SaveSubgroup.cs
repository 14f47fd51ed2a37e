using FluentValidation;
using MediatR;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;
using RwePortal.Warehouse;
using RwePortal.Warehouse.Cohorts;

namespace RwePortal.Application.Features.Subgroups;

/// <summary>
/// Saves a subgroup definition in the tenant's library: a new subgroup (no id) owned by the current user, or a new
/// revision of one the user owns (every edit is a revision; earlier ones stay readable). The definition is validated
/// with its library references resolved as the user sees them, and the revision records the vocabulary version of
/// the source it was built on (the command's Source, else the tenant's only granted source).
/// </summary>
public static class SaveSubgroup
{
    [RequiresPermission(Permission.EditSubgroups)]
    public sealed record Command(Guid? Id, string Name, string? Description, string Definition, SubgroupVisibility Visibility, string? Source = null)
        : IRequest<Result<Response>>, IAuditTarget
    {
        public string AuditTarget => Id is { } id ? $"subgroup {id}" : $"new subgroup '{Name}'";
    }

    public sealed record Response(Guid Id, int Revision);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.Id).Must(id => id != Guid.Empty).WithMessage("Give the id of a saved subgroup, or none for a new one.");
            RuleFor(c => c.Name).NotEmpty().MaximumLength(200).Must(n => !string.IsNullOrWhiteSpace(n)).WithMessage("A saved subgroup needs a name.");
            RuleFor(c => c.Description).MaximumLength(2000);
            RuleFor(c => c.Definition).NotEmpty().MaximumLength(SubgroupDefinitionParser.MaxDocumentLength);
            RuleFor(c => c.Visibility).IsInEnum();
            RuleFor(c => c.Source).MaximumLength(64);
        }
    }

    internal sealed class Handler(AppDbContext db, ICurrentUser currentUser, IAuditTrail audit, WarehouseConnections warehouse)
        : IRequestHandler<Command, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Command request, CancellationToken cancellationToken)
        {
            var user = await currentUser.GetAsync(cancellationToken);
            var vocabulary = await LibraryRecords.VocabularyAsync(db, warehouse, request.Source, cancellationToken);
            if (!vocabulary.Succeeded)
            {
                return vocabulary.Error!;
            }

            return await SubgroupStore.SaveAsync(
                db,
                audit,
                user,
                new SubgroupStore.Draft(request.Id, request.Name, request.Description, request.Definition, request.Visibility, vocabulary.Value!),
                nameof(SaveSubgroup),
                cancellationToken);
        }
    }
}
