using RwePortal.Application.Common;

namespace RwePortal.Application.Features.Protocols;

/// <summary>Refusals of protocol documents, with every problem's component and node path in the message.</summary>
internal static class ProtocolErrors
{
    public static Error Invalid(IEnumerable<ProtocolIssue> issues) =>
        new("Protocol.Invalid", string.Join(" ", issues.Select(i => $"{i.Component}: {(i.Path.Length == 0 ? "(document)" : i.Path)}: {i.Message}.")));
}
