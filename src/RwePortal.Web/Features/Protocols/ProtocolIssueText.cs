using System.Text.RegularExpressions;

namespace RwePortal.Web.Features.Protocols;

/// <summary>
/// One problem of a refused protocol document as the page lists it: the component, the node path and the rule.
/// The slices report a refusal as one message ("component: path: rule. component: path: rule."), which this splits.
/// </summary>
public sealed partial record ProtocolIssueText(string Component, string Path, string Message)
{
    public static IReadOnlyList<ProtocolIssueText> Split(string message)
    {
        var issues = new List<ProtocolIssueText>();
        foreach (var part in Boundary().Split(message.Trim()))
        {
            var match = Issue().Match(part);
            issues.Add(match.Success
                ? new ProtocolIssueText(match.Groups["component"].Value, match.Groups["path"].Value, match.Groups["rule"].Value.TrimEnd('.'))
                : new ProtocolIssueText("", "", part.TrimEnd('.')));
        }

        return issues;
    }

    [GeneratedRegex(@"(?<=\.)\s+(?=[A-Za-z]+: )")]
    private static partial Regex Boundary();

    [GeneratedRegex(@"^(?<component>[A-Za-z]+): (?<path>[^:]*?): (?<rule>.*)$", RegexOptions.Singleline)]
    private static partial Regex Issue();
}
