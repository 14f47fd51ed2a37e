namespace RwePortal.Application.Security;

/// <summary>Claim types the portal adds to the Identity cookie.</summary>
public static class RweClaims
{
    public const string TenantId = "rwe:tenant_id";
    public const string TenantName = "rwe:tenant_name";
    public const string TenantRole = "rwe:tenant_role";
    public const string PlatformAdmin = "rwe:platform_admin";
    public const string DisplayName = "rwe:display_name";

    /// <summary>Identity's authentication-method claim: <c>pwd</c> or <c>mfa</c>.</summary>
    public const string AuthenticationMethod = "amr";
}
