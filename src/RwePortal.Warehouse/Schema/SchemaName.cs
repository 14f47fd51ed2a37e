using System.Text.RegularExpressions;

namespace RwePortal.Warehouse.Schema;

/// <summary>
/// Data-source schema names (<c>cdm_[a-z0-9_]+</c>, at most 63 bytes as PostgreSQL identifiers). Schema names
/// cannot be bound as parameters, so every SQL text that contains one goes through <see cref="Validate"/>
/// first; nothing else is ever spliced into SQL.
/// </summary>
public static partial class SchemaName
{
    public const int MaxLength = 63;

    public static bool IsValid(string? schemaName) =>
        schemaName is { Length: > 4 and <= MaxLength } && Pattern().IsMatch(schemaName);

    /// <summary>Throws <see cref="ArgumentException"/> unless the name is a valid data-source schema name.</summary>
    public static string Validate(string? schemaName, string parameterName = "schemaName")
    {
        if (!IsValid(schemaName))
        {
            throw new ArgumentException(
                $"'{schemaName}' is not a valid data-source schema name: expected cdm_ followed by lowercase letters, digits or _ (at most {MaxLength} characters)",
                parameterName);
        }

        return schemaName!;
    }

    /// <summary>The schema of a data source name (<c>eunomia</c> → <c>cdm_eunomia</c>).</summary>
    public static string ForSource(string sourceName) => Validate("cdm_" + sourceName, nameof(sourceName));

    [GeneratedRegex("^cdm_[a-z0-9_]+$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
