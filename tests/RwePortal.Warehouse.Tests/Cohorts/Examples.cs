namespace RwePortal.Warehouse.Tests.Cohorts;

/// <summary>The runnable example definitions of docs/examples/subgroups/, read from the repository.</summary>
internal static class Examples
{
    public static string Read(string name) => File.ReadAllText(Path.Combine(Folder, name));

    public static IEnumerable<string> All() => Directory.EnumerateFiles(Folder, "*.json").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);

    private static string Folder
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, "docs", "examples", "subgroups");
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }

            throw new DirectoryNotFoundException("docs/examples/subgroups not found above " + AppContext.BaseDirectory);
        }
    }
}
