namespace RwePortal.Application.Audit;

/// <summary>The kinds of audit events. Stored as text in app.audit_event.event_type.</summary>
public static class AuditEventTypes
{
    public const string SignIn = "SignIn";
    public const string SignOut = "SignOut";
    public const string SignInFailed = "SignInFailed";
    public const string Lockout = "Lockout";
    public const string Command = "Command";
    public const string PermissionDenied = "PermissionDenied";
    public const string ConsentChanged = "ConsentChanged";
    public const string Export = "Export";
    public const string WarehouseQuery = "WarehouseQuery";

    /// <summary>Every type, in the order the audit page offers them as a filter.</summary>
    public static IReadOnlyList<string> All { get; } =
        [SignIn, SignOut, SignInFailed, Lockout, Command, PermissionDenied, ConsentChanged, Export, WarehouseQuery];
}

/// <summary>Outcomes written by the portal itself; failed commands record their error code instead.</summary>
public static class AuditOutcomes
{
    public const string Success = "Success";
    public const string Denied = "Denied";
    public const string Rejected = "Rejected";
}
