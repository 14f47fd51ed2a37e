using System.Diagnostics.CodeAnalysis;

namespace RwePortal.Cli.Infrastructure;

/// <summary>
/// Where the CLI finds its connection strings: the owner role's from <c>RWE_CS_OWNER</c> (what
/// <c>./rwe db env</c> exports), else from <c>ConnectionStrings__Owner</c> (the ASP.NET Core configuration name).
/// </summary>
internal static class ConnectionSettings
{
    public const string OwnerVariable = "RWE_CS_OWNER";
    public const string OwnerFallbackVariable = "ConnectionStrings__Owner";

    public static string OwnerMissingMessage =>
        $"no database connection: set {OwnerVariable} (or {OwnerFallbackVariable}) to the owner role's connection string, e.g. eval \"$(./rwe db env)\"";

    /// <summary>The owner role's connection string, or false when neither variable is set.</summary>
    public static bool TryGetOwner([NotNullWhen(true)] out string? connectionString)
    {
        connectionString = Read(OwnerVariable) ?? Read(OwnerFallbackVariable);
        return connectionString is not null;
    }

    private static string? Read(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value && !string.IsNullOrWhiteSpace(value) ? value : null;
}
