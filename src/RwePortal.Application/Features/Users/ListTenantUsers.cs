using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Users;

/// <summary>The current tenant's users, a page at a time, searched by name or email.</summary>
public static class ListTenantUsers
{
    [RequiresPermission(Permission.ManageTenantUsers)]
    public sealed record Query(int Page, int PageSize, string? Search = null) : IRequest<Result<Response>>;

    public sealed record Response(IReadOnlyList<Item> Items, int TotalCount);

    public sealed record Item(
        Guid UserId,
        string Email,
        string DisplayName,
        IReadOnlyList<TenantRole> Roles,
        bool IsDisabled,
        bool TwoFactorEnabled,
        bool IsLockedOut,
        bool IsYou);

    public const int MaxPageSize = 100;

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Page).GreaterThanOrEqualTo(0);
            RuleFor(q => q.PageSize).InclusiveBetween(1, MaxPageSize);
            RuleFor(q => q.Search).MaximumLength(200);
        }
    }

    internal sealed class Handler(ICurrentUser currentUser, TenantDbContextFactory contexts) : IRequestHandler<Query, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            var user = await currentUser.GetAsync(cancellationToken);
            if (user.TenantId is not { } tenantId)
            {
                return TenantUsers.NoTenant();
            }

            await using var db = await contexts.CreateAsync(cancellationToken);
            var members = db.Users.AsNoTracking()
                .Where(u => db.TenantMemberships.Any(m => m.UserId == u.Id && m.TenantId == tenantId));
            if (!string.IsNullOrWhiteSpace(request.Search))
            {
                var pattern = "%" + EscapeLike(request.Search.Trim()) + "%";
                members = members.Where(u => EF.Functions.ILike(u.DisplayName, pattern, @"\") || EF.Functions.ILike(u.Email!, pattern, @"\"));
            }

            var total = await members.CountAsync(cancellationToken);
            var now = DateTimeOffset.UtcNow;
            var page = await members
                .OrderBy(u => u.DisplayName).ThenBy(u => u.Email)
                .Skip(request.Page * request.PageSize).Take(request.PageSize)
                .Select(u => new
                {
                    u.Id,
                    u.Email,
                    u.DisplayName,
                    u.IsDisabled,
                    u.TwoFactorEnabled,
                    LockedOut = u.LockoutEnd != null && u.LockoutEnd > now,
                    Roles = db.TenantMemberships.Where(m => m.UserId == u.Id && m.TenantId == tenantId).Select(m => m.Role).ToList(),
                })
                .ToListAsync(cancellationToken);

            var items = page.Select(u => new Item(
                    u.Id, u.Email ?? "", u.DisplayName, u.Roles.Order().ToList(), u.IsDisabled, u.TwoFactorEnabled, u.LockedOut, u.Id == user.UserId))
                .ToList();
            return new Response(items, total);
        }

        private static string EscapeLike(string text) =>
            text.Replace(@"\", @"\\", StringComparison.Ordinal)
                .Replace("%", @"\%", StringComparison.Ordinal)
                .Replace("_", @"\_", StringComparison.Ordinal);
    }
}
