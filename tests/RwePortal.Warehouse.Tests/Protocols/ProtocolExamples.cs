using System.Text.Json.Nodes;

namespace RwePortal.Warehouse.Tests.Protocols;

/// <summary>The example protocols of docs/examples/protocols/, read from the repository, and edits of them for tests.</summary>
internal static class ProtocolExamples
{
    public const string Synthetic = "synthetic-arni-vs-enalapril.json";
    public const string Eunomia = "eunomia-celecoxib-vs-diclofenac.json";

    public static string Read(string name) => File.ReadAllText(System.IO.Path.Combine(Folder, name));

    public static IEnumerable<string> All() => Directory.EnumerateFiles(Folder, "*.json").Select(System.IO.Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);

    /// <summary>An example with one change applied to its JSON tree.</summary>
    public static string Edit(string name, Action<JsonObject> edit)
    {
        var root = JsonNode.Parse(Read(name))!.AsObject();
        edit(root);
        return root.ToJsonString();
    }

    private static string Folder
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                var candidate = System.IO.Path.Combine(directory.FullName, "docs", "examples", "protocols");
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }

            throw new DirectoryNotFoundException("docs/examples/protocols not found above " + AppContext.BaseDirectory);
        }
    }
}
