namespace RwePortal.Application.Security;

/// <summary>Who is asking, in which tenant, with which roles there. Built from the signed-in principal.</summary>
public sealed record UserContext(
    Guid UserId,
    string Email,
    string DisplayName,
    bool IsPlatformAdmin,
    Guid? TenantId,
    string? TenantName,
    IReadOnlyList<TenantRole> Roles)
{
    public static readonly UserContext Anonymous = new(Guid.Empty, "", "", false, null, null, []);

    public bool IsAuthenticated => UserId != Guid.Empty;

    /// <summary>Whether this session was signed in with a second factor (the <c>amr</c> claim is <c>mfa</c>).</summary>
    public bool SignedInWithSecondFactor { get; init; }

    /// <summary>What the user's roles grant, whatever the strength of the sign-in (navigation shows these).</summary>
    public IReadOnlySet<Permission> Permissions => RolePermissions.For(Roles, IsPlatformAdmin);

    /// <summary>
    /// Whether the user may do what needs <paramref name="permission"/> now: their roles grant it and, for an
    /// administrative permission, this session was signed in with a second factor.
    /// </summary>
    public bool Has(Permission permission) =>
        IsAuthenticated
        && Permissions.Contains(permission)
        && (SignedInWithSecondFactor || !SecondFactor.IsRequiredFor(permission));

    /// <summary>Whether the user's roles include administrative permissions this session cannot use without a second factor.</summary>
    public bool NeedsSecondFactor => !SignedInWithSecondFactor && Permissions.Any(SecondFactor.IsRequiredFor);
}

/// <summary>Gives the current user: in the portal from the circuit's authentication state, in the CLI a service user.</summary>
public interface ICurrentUser
{
    Task<UserContext> GetAsync(CancellationToken cancellationToken = default);
}
