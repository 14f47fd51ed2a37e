using System.Text.RegularExpressions;

namespace RwePortal.Web.Features.Subgroups;

/// <summary>
/// A refused definition's errors by node: the slices answer <c>Validation.Failed</c> with every error as
/// "<c>criteria[2].any[0].window.start: start is after end</c>" (the node path, then the rule). The builder shows each
/// at the card of the deepest node its path names, and what names no card (the document itself) above the cards.
/// </summary>
public sealed partial class CriteriaErrors
{
    private readonly List<(string Path, string Rule)> _errors;

    private CriteriaErrors(List<(string Path, string Rule)> errors) => _errors = errors;

    public static CriteriaErrors None { get; } = new([]);

    public bool Any => _errors.Count > 0;

    public IReadOnlyList<(string Path, string Rule)> All => _errors;

    /// <summary>Splits a validation message into (path, rule) pairs; text before the first path is a rule of the document.</summary>
    public static CriteriaErrors FromMessage(string message)
    {
        var errors = new List<(string, string)>();
        var matches = PathPattern().Matches(message);
        if (matches.Count == 0)
        {
            return new CriteriaErrors([("", message.Trim())]);
        }

        if (matches[0].Index > 0 && message[..matches[0].Index].Trim() is { Length: > 0 } lead)
        {
            errors.Add(("", lead));
        }

        for (var i = 0; i < matches.Count; i++)
        {
            var end = i + 1 < matches.Count ? matches[i + 1].Index : message.Length;
            var start = matches[i].Index + matches[i].Length;
            var path = matches[i].Groups["path"].Value;
            errors.Add((path == "(document)" ? "" : path, message[start..end].Trim()));
        }

        return new CriteriaErrors(errors);
    }

    /// <summary>Rules for the node at <paramref name="nodePath"/> itself or its fields, not for nodes nested in it.</summary>
    public IEnumerable<string> At(string nodePath, IReadOnlyCollection<string> childPaths) =>
        _errors.Where(e => Within(e.Path, nodePath) && !childPaths.Any(child => Within(e.Path, child)))
            .Select(e => e.Path.Length > nodePath.Length ? $"{e.Path[(nodePath.Length + 1)..]}: {e.Rule}" : e.Rule);

    /// <summary>Rules no node of the draft claims (the document, or a node path the draft does not have).</summary>
    public IEnumerable<string> Unclaimed(IReadOnlyCollection<string> nodePaths) =>
        _errors.Where(e => !nodePaths.Any(p => Within(e.Path, p))).Select(e => e.Path.Length == 0 ? e.Rule : $"{e.Path}: {e.Rule}");

    private static bool Within(string errorPath, string nodePath) =>
        errorPath == nodePath || (errorPath.StartsWith(nodePath, StringComparison.Ordinal) && errorPath.Length > nodePath.Length && errorPath[nodePath.Length] is '.' or '[');

    [GeneratedRegex(@"(?:^|(?<=\s))(?<path>\(document\)|(?:criteria|index)(?:\[\d+\]|\.[A-Za-z]+)*): ", RegexOptions.CultureInvariant)]
    private static partial Regex PathPattern();
}
