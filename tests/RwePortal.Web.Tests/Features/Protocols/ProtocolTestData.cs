using RwePortal.Application.Data;
using RwePortal.Application.Features.Protocols;

namespace RwePortal.Web.Tests.Features.Protocols;

/// <summary>Protocols as the slices answer them, for the page tests.</summary>
internal static class ProtocolTestData
{
    public static readonly Guid Id = Guid.NewGuid();

    /// <summary>The Eunomia example protocol shipped in docs/examples/protocols.</summary>
    public static string Example()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "RwePortal.sln")))
        {
            folder = folder.Parent;
        }

        return File.ReadAllText(Path.Combine(folder!.FullName, "docs", "examples", "protocols", "eunomia-celecoxib-vs-diclofenac.json"));
    }

    public static GetProtocol.Response Protocol(string document, ProtocolVersionState state = ProtocolVersionState.Draft, int revision = 3, bool canEdit = true) => new(
        Id,
        "Celecoxib versus diclofenac",
        "Study Lead",
        DateTimeOffset.UtcNow,
        null,
        1,
        document,
        CanReview: false,
        CanEdit: canEdit,
        CanAmend: false,
        [
            new GetProtocol.VersionInfo(1, state, state == ProtocolVersionState.Draft ? null : new string('a', 64), revision, "Study Lead", DateTimeOffset.UtcNow,
                null, null, null, null, null, [], [], []),
        ],
        []);
}
