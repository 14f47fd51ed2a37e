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

/// <summary>
/// Who the code in this DI scope works for. Inside a request (the mediator's own scope) and inside a background job
/// it is bound to one user and tenant; elsewhere it asks the host's <see cref="IUserContextSource"/>.
/// </summary>
public interface ICurrentUser
{
    Task<UserContext> GetAsync(CancellationToken cancellationToken = default);
}

/// <summary>Where the host reads the signed-in user from: the circuit's or the request's authentication state.</summary>
public interface IUserContextSource
{
    Task<UserContext> GetAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// The scope's <see cref="ICurrentUser"/>. The mediator binds it to the caller for each request's scope; a background
/// worker binds it to the user and tenant of the job it runs. Unbound, it reads the host's source (anonymous without one).
/// </summary>
public sealed class CurrentUser(IServiceProvider services) : ICurrentUser
{
    private UserContext? _bound;

    /// <summary>The user this scope is bound to, or null.</summary>
    public UserContext? Bound => _bound;

    /// <summary>Binds this scope to <paramref name="user"/>, once; a scope never changes hands.</summary>
    public void Bind(UserContext user)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (_bound is not null && _bound != user)
        {
            throw new InvalidOperationException("This scope is already bound to another user.");
        }

        _bound = user;
    }

    public async Task<UserContext> GetAsync(CancellationToken cancellationToken = default)
    {
        if (_bound is not null)
        {
            return _bound;
        }

        var source = (IUserContextSource?)services.GetService(typeof(IUserContextSource));
        return source is null ? UserContext.Anonymous : await source.GetAsync(cancellationToken);
    }
}
