using System.Globalization;
using System.Text.RegularExpressions;

namespace RwePortal.Warehouse.Cohorts;

/// <summary>
/// A saved subgroup used as a criterion of another: "the person is a member of that subgroup", compiled as
/// <c>b.person_id IN (&lt;its members statement&gt;)</c>. The nested statement is the one
/// <see cref="SubgroupCompiler.CompileMembers"/> emits for the same source and purpose (its own index event, windows
/// and consent filter; its WITH clause stays inside the subquery), with its value parameters renamed into the outer
/// statement's. It does not depend on the outer person, so PostgreSQL runs it once per statement.
/// </summary>
public static partial class SubgroupMembership
{
    /// <param name="criterion">A reference the portal resolved (its <see cref="SubgroupCriterion.Definition"/> set).</param>
    /// <param name="quotedSchema">The outer statement's schema, validated and quoted.</param>
    /// <param name="source">The source the outer statement counts (shared <c>@source</c> parameter).</param>
    /// <param name="purpose">The purpose of the outer statement (shared <c>@purpose</c> parameter).</param>
    /// <param name="parameter">Adds a value parameter to the outer statement and returns its placeholder.</param>
    public static string Expression(SubgroupCriterion criterion, string quotedSchema, string source, string purpose, Func<object, string> parameter)
    {
        ArgumentNullException.ThrowIfNull(criterion);
        ArgumentNullException.ThrowIfNull(parameter);
        var definition = criterion.Definition
            ?? throw new ArgumentException($"{criterion.Path}: the saved subgroup {criterion.Id} was not resolved; resolve library references before compiling.", nameof(criterion));
        var nested = SubgroupCompiler.CompileMembers(definition, quotedSchema.Trim('"'), source, purpose);
        var renamed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in nested.Parameters)
        {
            if (p.Name is "source" or "purpose")
            {
                continue;
            }

            renamed[p.Name] = parameter(p.Value);
        }

        // Placeholders are the compiler's own (@p0, @p1, …): no text of a definition is ever in the statement, so a
        // whole-word replacement touches placeholders only.
        var sql = Placeholder().Replace(nested.Sql, m => renamed.TryGetValue(m.Groups[1].Value, out var outer) ? outer : m.Value);
        return string.Create(CultureInfo.InvariantCulture, $"(b.person_id IN (SELECT m.person_id FROM (\n{sql}\n) m))");
    }

    [GeneratedRegex(@"@(p[0-9]+)\b", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();
}
