namespace RwePortal.Warehouse.Tests.Loading;

/// <summary>A folder under the system temp directory, deleted on dispose; tests write CSV exports into it.</summary>
public sealed class TemporaryFolder : IDisposable
{
    public TemporaryFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rwe-warehouse-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>Writes a file (lines joined with \n, ending with a newline).</summary>
    public TemporaryFolder Write(string fileName, params string[] lines)
    {
        File.WriteAllText(System.IO.Path.Combine(Path, fileName), string.Join("\n", lines) + "\n");
        return this;
    }

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
