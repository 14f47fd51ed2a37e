using FluentValidation;
using MediatR;
using RwePortal.Application.Common;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Home;

/// <summary>The home page: who you are, where you are, and what you can do next.</summary>
public static class GetHome
{
    [RequiresPermission(Permission.ViewHome)]
    public sealed record Query : IRequest<Result<Response>>;

    public sealed record Response(string DisplayName, string? TenantName, IReadOnlyList<string> Roles, IReadOnlyList<NextStep> NextSteps);

    /// <summary>
    /// A thing the user's roles allow, with the page that does it. <see cref="Available"/> is false for a
    /// capability whose pages are not in this release yet: the home page shows it as coming, without a link.
    /// </summary>
    public sealed record NextStep(string Title, string Description, string Href, Permission Permission, bool Available = true);

    public sealed class Validator : AbstractValidator<Query>;

    private static readonly NextStep[] Catalog =
    [
        new("Build a subgroup", "Combine EHR, genomic, wearable and claims criteria and see how many patients match.", "subgroups", Permission.EditSubgroups),
        new("Compare outcomes", "Browse finished analyses and compare outcomes across subgroups.", "analyses", Permission.ViewAnalyses, Available: false),
        new("Author a protocol", "Write a target-trial-emulation protocol and send it for approval.", "protocols", Permission.EditProtocols),
        new("Run an analysis", "Run an approved protocol: propensity weighting, balance, Kaplan–Meier, Cox.", "analyses", Permission.RunAnalyses, Available: false),
        new("Manage users", "Invite people to your tenant and assign their roles.", "admin/users", Permission.ManageTenantUsers),
        new("Manage consent", "Import and review patients' consent by purpose.", "admin/consent", Permission.ManageConsent),
        new("Review the audit trail", "See who did what, when, and verify the chain.", "admin/audit", Permission.ViewAudit),
        new("Manage tenants", "Create tenants and grant them data sources for named purposes.", "admin/tenants", Permission.ManageTenants),
    ];

    internal sealed class Handler(ICurrentUser currentUser) : IRequestHandler<Query, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            var user = await currentUser.GetAsync(cancellationToken);
            var steps = Catalog.Where(step => user.Has(step.Permission)).DistinctBy(step => step.Title).ToList();
            var roles = user.Roles.Select(role => role.ToString()).ToList();
            if (user.IsPlatformAdmin)
            {
                roles.Insert(0, "Admin");
            }

            return new Response(user.DisplayName, user.TenantName, roles, steps);
        }
    }
}
