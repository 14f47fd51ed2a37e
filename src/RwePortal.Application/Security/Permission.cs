namespace RwePortal.Application.Security;

/// <summary>What a request may need. Roles grant permissions (<see cref="RolePermissions"/>); requests declare one.</summary>
public enum Permission
{
    /// <summary>Any signed-in member of the current tenant.</summary>
    ViewHome,
    ViewSubgroups,
    EditSubgroups,
    ViewProtocols,
    EditProtocols,
    ApproveProtocols,
    RunAnalyses,
    ViewAnalyses,
    ManageTenantUsers,
    ManageConsent,
    ViewAudit,
    ManageTenants,
    ManageDataSources,
}

/// <summary>The roles a user holds in one tenant. A platform Admin is a flag on the user, not a tenant role.</summary>
public enum TenantRole
{
    Analyst,
    StudyLead,
    TenantAdmin,
}

/// <summary>Which permissions each role grants.</summary>
public static class RolePermissions
{
    private static readonly Dictionary<TenantRole, Permission[]> ByRole = new()
    {
        [TenantRole.Analyst] = [Permission.ViewHome, Permission.ViewSubgroups, Permission.EditSubgroups, Permission.ViewAnalyses, Permission.ViewProtocols],
        [TenantRole.StudyLead] =
        [
            Permission.ViewHome, Permission.ViewSubgroups, Permission.EditSubgroups, Permission.ViewProtocols,
            Permission.EditProtocols, Permission.ApproveProtocols, Permission.RunAnalyses, Permission.ViewAnalyses,
        ],
        [TenantRole.TenantAdmin] =
        [
            Permission.ViewHome, Permission.ManageTenantUsers, Permission.ManageConsent, Permission.ViewAudit,

            // Reviewers of protocols are another study lead or a tenant administrator (never the author).
            Permission.ViewProtocols, Permission.ApproveProtocols,
        ],
    };

    private static readonly Permission[] PlatformAdmin =
        [Permission.ViewHome, Permission.ManageTenants, Permission.ManageDataSources, Permission.ManageConsent, Permission.ViewAudit];

    public static IReadOnlySet<Permission> For(IEnumerable<TenantRole> roles, bool isPlatformAdmin)
    {
        var permissions = roles.SelectMany(role => ByRole[role]).ToHashSet();
        if (isPlatformAdmin)
        {
            permissions.UnionWith(PlatformAdmin);
        }

        return permissions;
    }
}

/// <summary>Declares the permission a request needs; the authorization behaviour enforces it before the handler runs.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class RequiresPermissionAttribute(Permission permission) : Attribute
{
    public Permission Permission { get; } = permission;
}
